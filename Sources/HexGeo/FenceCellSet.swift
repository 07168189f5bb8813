import Foundation
import Vocabulary

/// A fence made of H3 cells (any mix of resolutions): a point is inside when its cell at one of the listed
/// resolutions is listed, exactly H3's answer. Each cell's boundary is kept as a polygon for segment tests.
public struct FenceCellSet: Sendable {
    /// The cells, as given (duplicates dropped), sorted.
    public let cells: [H3Cell]
    private let members: Set<UInt64>
    /// The cells' values, ascending.
    private let sortedMembers: [UInt64]
    private let resolutions: [Int]
    private let boundaries: [GeoPolygon]
    /// Each cell's centre and a bound on its radius (meters), for distance bounds and grid covers.
    let centres: [(LatLng, Double)]
    /// A box around every cell.
    public let boundingBox: BoundingBox
    /// The average cell centre.
    public let center: LatLng
    /// For a small set (≤ `quickLimit` cells), each cell's inscribed and circumscribed discs: a point in an inscribed
    /// one is in the set, one outside every circumscribed one is not, and only the rest ask H3. Empty otherwise.
    private let quick: [(inner: PlanarDisc, outer: PlanarDisc)]
    static let quickLimit = 32

    /// `quick` as the point tests read it, 40 bytes a cell: the shared centre and scale of both discs, the inscribed
    /// one's "surely inside" limit and the larger of the two "surely outside" limits (planar distance², radians²).
    /// One distance a cell gives the two discs' combined answer, from a few cache lines for the whole set.
    private struct QuickCell {
        let lat: Double, lng: Double, cosLat: Double, insideLimit: Double, outsideLimit: Double
    }
    private let quickCells: [QuickCell]

    /// The quick discs' answer for `p`: true inside some inscribed disc, false outside every circumscribed one, nil
    /// between (ask H3).
    @inline(__always)
    private func quickAnswer(_ p: LatLng) -> Bool? {
        var unsure = false
        for q in quickCells {
            let dLat = p.lat - q.lat
            var dLng = p.lng - q.lng
            if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
            let x = dLng * q.cosLat
            let d2 = dLat * dLat + x * x
            if d2 <= q.insideLimit { return true }
            if d2 <= q.outsideLimit { unsure = true }
        }
        return unsure ? nil : false
    }

    /// A set over valid cells.
    /// - Throws: `cellInvalid` for a cell that is not a valid H3 cell.
    public init(_ cells: [H3Cell]) throws(HexGeoError) {
        let unique = Array(Set(cells)).sorted()
        var polys: [GeoPolygon] = []
        var centres: [(LatLng, Double)] = []
        var quick: [(inner: PlanarDisc, outer: PlanarDisc)] = []
        polys.reserveCapacity(unique.count)
        for c in unique {
            guard H3.isValidCell(c) else { throw .cellInvalid }
            let boundary = try H3.cellToBoundary(c)
            let loop = Array(boundary)
            let centre = try H3.cellToLatLng(c)
            var radius = 0.0
            for v in loop { radius = max(radius, Geodesy.distanceMeters(centre, v)) }
            polys.append(GeoPolygon(outer: loop))
            centres.append((centre, radius))
            if unique.count <= Self.quickLimit {
                quick.append((PlanarDisc(center: centre, radiusMeters: Self.inscribedMeters(centre, loop)),
                              PlanarDisc(center: centre, radiusMeters: radius * 1.01 + 0.5)))
            }
        }
        self.quick = quick
        quickCells = quick.map { q in
            QuickCell(lat: q.inner.center.lat, lng: q.inner.center.lng, cosLat: q.inner.cosLat, insideLimit: q.inner.insideLimit,
                      outsideLimit: max(q.inner.outsideLimit, q.outer.outsideLimit))
        }
        self.cells = unique
        members = Set(unique.map(\.rawValue))
        sortedMembers = unique.map(\.rawValue).sorted()
        resolutions = Array(Set(unique.map(\.resolution))).sorted()
        boundaries = polys
        self.centres = centres
        var box = polys.first?.boundingBox ?? BoundingBox(north: 0, south: 0, east: 0, west: 0)
        for p in polys.dropFirst() { box = FenceCellSet.union(box, p.boundingBox) }
        boundingBox = box
        center = FenceShape.average(centres.map(\.0))
    }

    /// Whether `p`'s cell at one of the set's resolutions is in the set.
    public func contains(_ p: LatLng) -> Bool {
        if !quickCells.isEmpty, let answer = quickAnswer(p) { return answer }
        return containsByH3(p)
    }

    /// Whether one cell's inscribed disc holds every corner (small sets only; `FenceShape.holdsRectangle`).
    func holdsRectangle(_ corners: [LatLng]) -> Bool {
        for q in quick {
            let limit = q.inner.radiusMeters * (1 - 1e-9) - 0.005
            if corners.allSatisfy({ Geodesy.distanceMeters(q.inner.center, $0) <= limit }) { return true }
        }
        return false
    }

    /// `contains`, with the point's cell at a resolution asked of `cellAt` (a caller testing many sets at one point
    /// asks H3 once per resolution instead of once per set).
    @inline(__always)
    public func contains(_ p: LatLng, cellAt: (Int) -> H3Cell?) -> Bool {
        if !quickCells.isEmpty, let answer = quickAnswer(p) { return answer }
        for r in resolutions {
            if let c = cellAt(r), isMember(c.rawValue) { return true }
        }
        return false
    }

    /// Whether `raw` is one of the cells: a scan of the sorted values for a small set (no hashing), else the set.
    @inline(__always)
    private func isMember(_ raw: UInt64) -> Bool {
        if sortedMembers.count <= 32 {
            for m in sortedMembers where m >= raw { return m == raw }
            return false
        }
        return members.contains(raw)
    }

    /// `contains` by asking H3 for the point's cell at each listed resolution.
    func containsByH3(_ p: LatLng) -> Bool {
        for r in resolutions {
            guard let c = try? H3.latLngToCell(p, resolution: r) else { continue }
            if members.contains(c.rawValue) { return true }
        }
        return false
    }

    /// Whether the segment `a`→`b` meets any cell of the set (ends by H3's rule, the path by the boundaries).
    public func segmentIntersects(_ a: LatLng, _ b: LatLng) -> Bool {
        if contains(a) || contains(b) { return true }
        let segmentBox = BoundingBox(loop: [a, b])
        for poly in boundaries where poly.boundingBox.intersects(segmentBox) {
            if FenceShape.segment(a, b, meets: poly) { return true }
        }
        return false
    }

    /// A radius around a cell's centre inside the cell: the least distance from the centre to the great circle of
    /// each boundary edge (a lower bound on the distance to the edge itself), less 1 % and 1 cm for rounding.
    static func inscribedMeters(_ centre: LatLng, _ boundary: [LatLng]) -> Double {
        guard boundary.count >= 3 else { return 0 }
        var inner = Double.infinity
        for i in boundary.indices {
            let a = boundary[i], b = boundary[(i + 1) % boundary.count]
            let angle = Geodesy.initialBearing(from: a, to: centre) - Geodesy.initialBearing(from: a, to: b)
            let crossTrack = asin(min(1, abs(sin(Geodesy.centralAngle(a, centre)) * sin(angle))))
            inner = min(inner, crossTrack * Geodesy.earthRadiusMeters)
        }
        return max(0, inner * 0.99 - 0.01)
    }

    /// A lower bound on the distance from `p` to the nearest cell, meters.
    public func distanceLowerBoundMeters(_ p: LatLng) -> Double {
        var best = Double.infinity
        for (c, r) in centres { best = min(best, max(0, Geodesy.distanceMeters(c, p) - r)) }
        return best
    }

    /// The box around two boxes, the short way round (longitudes unwrapped around `a`'s western edge).
    static func union(_ a: BoundingBox, _ b: BoundingBox) -> BoundingBox {
        let north = max(a.north, b.north), south = min(a.south, b.south)
        let aw = a.west, ae = a.west + a.widthRadians
        let bw = a.west + FenceShape.wrap(b.west - a.west), be = bw + b.widthRadians
        let west = min(aw, bw), east = max(ae, be)
        if east - west >= 2 * Double.pi { return BoundingBox(north: north, south: south, east: Double.pi, west: -Double.pi) }
        func norm(_ x: Double) -> Double { x > Double.pi ? x - 2 * Double.pi : (x < -Double.pi ? x + 2 * Double.pi : x) }
        return BoundingBox(north: north, south: south, east: norm(east), west: norm(west))
    }
}

import Foundation
import Vocabulary

/// The area of a fixed geofence: a circle, a polygon with holes, or a set of H3 cells. Pure geometry: what is
/// inside, whether a ping-to-ping segment passes through, and how far a point is from the area (for covering it
/// with index squares).
///
/// Conventions, shared with the reference the tests check against:
/// - A circle holds the points whose great-circle distance from the centre is at most the radius.
/// - A polygon follows H3's containment rule (`GeoPolygon.contains`): the first ring is the outer boundary, the
///   rest are holes; edges are straight in latitude/longitude; a polygon whose edges cross the antimeridian is
///   read the short way round (H3's `bboxFromGeoLoop`).
/// - A cell set holds the points whose cell at each listed cell's resolution is in the set (`latLngToCell`), so it
///   agrees with H3 exactly; segments are tested against the cells' boundary polygons.
/// - A segment between two pings is straight in latitude/longitude, taking the short way across the antimeridian.
public enum FenceShape: Sendable {
    case circle(center: LatLng, radiusMeters: Double)
    case polygon(GeoPolygon)
    case cells(FenceCellSet)

    /// Whether `p` is inside the area.
    public func contains(_ p: LatLng) -> Bool {
        switch self {
        case .circle(let c, let r): return Geodesy.distanceMeters(c, p) <= r
        case .polygon(let poly): return poly.contains(p)
        case .cells(let set): return set.contains(p)
        }
    }

    /// Whether the straight segment from `a` to `b` meets the area (either end inside, or passing through).
    public func segmentIntersects(_ a: LatLng, _ b: LatLng) -> Bool {
        switch self {
        case .circle(let c, let r):
            if Geodesy.distanceMeters(c, a) <= r || Geodesy.distanceMeters(c, b) <= r { return true }
            let frame = LocalFrame(origin: c)
            return PlanarSegment.distanceFromOrigin(frame.segmentEnd(from: a, to: b)) <= r
        case .polygon(let poly):
            return FenceShape.segment(a, b, meets: poly)
        case .cells(let set):
            return set.segmentIntersects(a, b)
        }
    }

    /// The point "nearest centre first" orders by: a circle's centre, a polygon's vertex average (taken the short
    /// way round), a cell set's average cell centre.
    public var center: LatLng {
        switch self {
        case .circle(let c, _): return c
        case .polygon(let poly): return FenceShape.average(poly.outer)
        case .cells(let set): return set.center
        }
    }

    /// A lower bound on the distance in meters from `p` to the area (0 inside). Used to cover the area with index
    /// squares conservatively, so it may underestimate but never overestimate (beyond planar rounding, which the
    /// caller's margin absorbs).
    public func distanceLowerBoundMeters(_ p: LatLng) -> Double {
        switch self {
        case .circle(let c, let r):
            return max(0, Geodesy.distanceMeters(c, p) - r)
        case .polygon(let poly):
            if poly.contains(p) { return 0 }
            let frame = LocalFrame(origin: p)
            var best = Double.infinity
            for ring in [poly.outer] + poly.holes {
                for i in ring.indices {
                    let s = ring[i], e = ring[(i + 1) % ring.count]
                    let d = PlanarSegment.distanceFromOrigin(frame.segmentEnd(from: s, to: e))
                    best = min(best, d)
                }
            }
            return best
        case .cells(let set):
            return set.distanceLowerBoundMeters(p)
        }
    }

    /// Whether every point of the latitude/longitude rectangle (radians; `west` < `east`, not across the
    /// antimeridian) is inside the area. Conservative: true only when shown (with a few millimetres to spare), so a
    /// point of the rectangle needs no exact test; false says nothing.
    ///
    /// A circle: the distance from the centre along a parallel grows with the longitude difference and along a
    /// meridian has one minimum, so the farthest point of the rectangle is a corner. A polygon: the centre is inside
    /// and no ring's edge meets the rectangle (widened a little), so every point has the centre's answer. A small cell
    /// set: one cell's inscribed disc holds every corner.
    public func holdsRectangle(south: Double, north: Double, west: Double, east: Double) -> Bool {
        guard south <= north, west <= east, east - west < Double.pi else { return false }
        let corners = [LatLng(lat: south, lng: west), LatLng(lat: south, lng: east),
                       LatLng(lat: north, lng: west), LatLng(lat: north, lng: east)]
        switch self {
        case .circle(let c, let r):
            let limit = r * (1 - 1e-9) - 0.005
            return corners.allSatisfy { Geodesy.distanceMeters(c, $0) <= limit }
        case .polygon(let poly):
            guard !poly.boundingBox.isTransmeridian else { return false }
            guard poly.contains(LatLng(lat: (south + north) / 2, lng: (west + east) / 2)) else { return false }
            let slack = 1e-9
            for ring in [poly.outer] + poly.holes {
                guard var prev = ring.last else { continue }
                for v in ring {
                    if Self.segment((prev.lat, prev.lng), (v.lat, v.lng), meetsRectangle: south - slack, north + slack, west - slack, east + slack) { return false }
                    prev = v
                }
            }
            return true
        case .cells(let set):
            return set.holdsRectangle(corners)
        }
    }

    /// Whether the straight segment a→b meets the rectangle (Liang–Barsky clipping); any one unit for all of them
    /// (radians, degrees, E7), as the test is the same in each.
    public static func segment(_ a: (lat: Double, lng: Double), _ b: (lat: Double, lng: Double),
                               meetsRectangle south: Double, _ north: Double, _ west: Double, _ east: Double) -> Bool {
        var t0 = 0.0, t1 = 1.0
        let dx = b.lng - a.lng, dy = b.lat - a.lat
        for (p, q) in [(-dx, a.lng - west), (dx, east - a.lng), (-dy, a.lat - south), (dy, north - a.lat)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let r = q / p
                if p < 0 {
                    if r > t1 { return false }
                    t0 = max(t0, r)
                } else {
                    if r < t0 { return false }
                    t1 = min(t1, r)
                }
            }
        }
        return true
    }

    /// A box around the area (radians).
    public var boundingBox: BoundingBox {
        switch self {
        case .circle(let c, let r): return BoundingBox(around: c, radiusMeters: r)
        case .polygon(let poly): return poly.boundingBox
        case .cells(let set): return set.boundingBox
        }
    }

    // MARK: - planar helpers

    /// Whether a segment meets a polygon (with holes): an end inside, or a crossing of any ring's edge. A segment
    /// that crosses only a hole's edges has entered the area between the hole and the outer ring.
    static func segment(_ a: LatLng, _ b: LatLng, meets poly: GeoPolygon) -> Bool {
        if poly.contains(a) || poly.contains(b) { return true }
        guard let first = poly.outer.first else { return false }
        let origin = first.lng
        let a2 = (a.lat, origin + wrap(a.lng - origin))
        let b2 = (b.lat, a2.1 + wrap(b.lng - a.lng))
        // Ring by ring without concatenating them: this runs on the ingest path.
        func crosses(_ ring: [LatLng]) -> Bool {
            guard let last = ring.last else { return false }
            var prev = last
            var p2 = (prev.lat, origin + wrap(prev.lng - origin))
            for v in ring {
                let v2 = (v.lat, p2.1 + wrap(v.lng - prev.lng))
                if PlanarSegment.intersect(a2, b2, p2, v2) { return true }
                prev = v
                p2 = v2
            }
            return false
        }
        if crosses(poly.outer) { return true }
        for hole in poly.holes where crosses(hole) { return true }
        return false
    }

    /// Vertex average, longitudes unwrapped around the first vertex so a polygon across the antimeridian averages
    /// to a point inside it.
    static func average(_ points: [LatLng]) -> LatLng {
        guard let first = points.first else { return LatLng(lat: 0, lng: 0) }
        var lat = 0.0, lng = 0.0
        for p in points {
            lat += p.lat
            lng += first.lng + wrap(p.lng - first.lng)
        }
        let n = Double(points.count)
        return LatLng(lat: lat / n, lng: first.lng + wrap(lng / n - first.lng))
    }

    /// An angle brought into (-π, π].
    @inline(__always)
    static func wrap(_ x: Double) -> Double {
        var v = x
        while v > Double.pi { v -= 2 * Double.pi }
        while v <= -Double.pi { v += 2 * Double.pi }
        return v
    }
}

/// An equirectangular plane around a point, in meters: fine for the short distances fences deal with (a segment
/// or a polygon edge near the point), and affine in latitude/longitude, so straight lat/lng segments stay straight.
struct LocalFrame {
    let origin: LatLng
    let cosLat: Double

    init(origin: LatLng) {
        self.origin = origin
        cosLat = cos(origin.lat)
    }

    /// `p` in meters east and north of the origin (longitude taken the short way).
    func point(_ p: LatLng) -> (Double, Double) {
        (FenceShape.wrap(p.lng - origin.lng) * cosLat * Geodesy.earthRadiusMeters,
         (p.lat - origin.lat) * Geodesy.earthRadiusMeters)
    }

    /// The segment `a`→`b` in the plane, `b` reached the short way from `a`.
    func segmentEnd(from a: LatLng, to b: LatLng) -> ((Double, Double), (Double, Double)) {
        let pa = point(a)
        let dx = FenceShape.wrap(b.lng - a.lng) * cosLat * Geodesy.earthRadiusMeters
        let dy = (b.lat - a.lat) * Geodesy.earthRadiusMeters
        return (pa, (pa.0 + dx, pa.1 + dy))
    }
}

/// Segment arithmetic in a plane.
enum PlanarSegment {
    /// Distance from (0, 0) to the segment `s`.
    static func distanceFromOrigin(_ s: ((Double, Double), (Double, Double))) -> Double {
        let (a, b) = s
        let dx = b.0 - a.0, dy = b.1 - a.1
        let len2 = dx * dx + dy * dy
        var t = len2 > 0 ? -(a.0 * dx + a.1 * dy) / len2 : 0
        t = min(1, max(0, t))
        let x = a.0 + t * dx, y = a.1 + t * dy
        return (x * x + y * y).squareRoot()
    }

    /// Whether segments p1–p2 and q1–q2 share a point (touching counts).
    static func intersect(_ p1: (Double, Double), _ p2: (Double, Double), _ q1: (Double, Double), _ q2: (Double, Double)) -> Bool {
        func orient(_ a: (Double, Double), _ b: (Double, Double), _ c: (Double, Double)) -> Double {
            (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
        }
        func onSegment(_ a: (Double, Double), _ b: (Double, Double), _ c: (Double, Double)) -> Bool {
            min(a.0, b.0) <= c.0 && c.0 <= max(a.0, b.0) && min(a.1, b.1) <= c.1 && c.1 <= max(a.1, b.1)
        }
        let d1 = orient(q1, q2, p1), d2 = orient(q1, q2, p2), d3 = orient(p1, p2, q1), d4 = orient(p1, p2, q2)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        if d1 == 0 && onSegment(q1, q2, p1) { return true }
        if d2 == 0 && onSegment(q1, q2, p2) { return true }
        if d3 == 0 && onSegment(p1, p2, q1) { return true }
        if d4 == 0 && onSegment(p1, p2, q2) { return true }
        return false
    }
}

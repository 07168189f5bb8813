import Foundation
import HexGeo
import Vocabulary

extension DriverTable {
    /// Every fresh driver inside `polygon` whose status passes, ordered by id.
    ///
    /// The polygon's vertices give a bounding cap (centroid and farthest vertex); the radius search over that
    /// cap yields the candidates and the exact point-in-polygon test keeps the ones inside.
    public func drivers(in polygon: GeoPolygon, statuses: StatusFilter = .all, nowMs: Int64) -> [DriverState] {
        guard let cap = Self.boundingCap(polygon) else { return [] }
        return within(radiusMeters: cap.radius, of: cap.center, statuses: statuses, nowMs: nowMs) { polygon.contains($0) }
            .map(\.state).sorted { $0.id < $1.id }
    }

    /// Every fresh driver whose position lies in one of `cells` (any resolutions; H3's own cell membership,
    /// `latLngToCell(position, res(cell)) == cell`), ordered by id, each driver once.
    ///
    /// H3's hierarchy is not geometrically nested (a child can stick out of its parent), so buckets are not
    /// trusted for membership: each cell's candidates come from a radius search around its centre with the
    /// resolution's radius bound, and H3 itself decides membership.
    /// - Throws: `HexGeoError.cellInvalid` for an invalid cell.
    public func drivers(inCells cells: [H3Cell], statuses: StatusFilter = .all, nowMs: Int64) throws(HexGeoError) -> [DriverState] {
        for c in cells where !H3.isValidCell(c) { throw .cellInvalid }
        var found: [UInt64: DriverState] = [:]
        for cell in cells {
            let res = H3.getResolution(cell)
            let center = try H3.cellToLatLng(cell)
            let hits = within(radiusMeters: H3CellScheme.radiusBound(resolution: res), of: center, statuses: statuses,
                              nowMs: nowMs) { p in (try? H3.latLngToCell(p, resolution: res)) == cell }
            for h in hits { found[h.state.id.rawValue] = h.state }
        }
        return found.values.sorted { $0.id < $1.id }
    }

    func forEachRow(inBucket key: UInt64, _ body: (Int) -> Void) {
        var r = buckets.head(key)
        while r != Self.none {
            body(Int(r))
            r = rows[Int(r)].next
        }
    }

    /// A cap holding the polygon's latitude/longitude bounding box (its edges are straight in lat/lng, so the
    /// box, not the vertices, bounds it): the box centre, and the farthest of 64 boundary samples plus slack.
    static func boundingCap(_ polygon: GeoPolygon) -> (center: LatLng, radius: Double)? {
        guard polygon.outer.count >= 3 else { return nil }
        let box = polygon.boundingBox
        let west = box.west, east = box.isTransmeridian ? box.east + 2 * Double.pi : box.east
        var midLng = (west + east) / 2
        if midLng > Double.pi { midLng -= 2 * Double.pi }
        let center = LatLng(lat: (box.north + box.south) / 2, lng: midLng)
        var r = 0.0
        for i in 0...16 {
            let t = Double(i) / 16
            let lng = west + (east - west) * t, lat = box.south + (box.north - box.south) * t
            for p in [LatLng(lat: box.north, lng: lng), LatLng(lat: box.south, lng: lng),
                      LatLng(lat: lat, lng: west), LatLng(lat: lat, lng: east)] {
                r = max(r, Geodesy.distanceMeters(center, p))
            }
        }
        return (center, r * 1.05 + 10)
    }
}

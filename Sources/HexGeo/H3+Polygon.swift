import Foundation
import Vocabulary

/// Polygon fill by centre containment (H3's `polygonToCells` with its default `CONTAINMENT_CENTER`).
extension H3 {
    /// Every cell at `resolution` whose centre lies inside `polygon` (by `GeoPolygon.contains`),
    /// sorted by id. Cells along each edge seed a flood fill over neighbours whose centres are inside.
    public static func polygonToCells(_ polygon: GeoPolygon, resolution: Int) throws(HexGeoError) -> [H3Cell] {
        guard resolution >= 0 && resolution <= maxResolution else { throw .resDomain }
        for loop in [polygon.outer] + polygon.holes {
            for p in loop where !(p.lat.isFinite && p.lng.isFinite) { throw .latLngDomain }
        }
        guard polygon.outer.count >= 3 else { return [] }
        // Sample spacing: a quarter of the average cell edge at this resolution (res 0 edge ≈ 0.2 rad).
        var step = 0.2 / 4
        for _ in 0..<resolution { step /= H3Const.sqrt7 }
        var inside = Set<H3Cell>()
        var checked = Set<H3Cell>()
        var queue: [H3Cell] = []
        var disk: [H3Cell] = []
        func consider(_ c: H3Cell) throws(HexGeoError) {
            guard checked.insert(c).inserted else { return }
            if polygon.contains(try cellToLatLng(c)) {
                inside.insert(c)
                queue.append(c)
            }
        }
        for loop in [polygon.outer] + polygon.holes where !loop.isEmpty {
            let transmeridian = BoundingBox(loop: loop).isTransmeridian
            for n in loop.indices {
                let a = loop[n], b = loop[(n + 1) % loop.count]
                var aLng = a.lng, bLng = b.lng
                if transmeridian { if aLng < 0 { aLng += 2 * Double.pi }; if bLng < 0 { bLng += 2 * Double.pi } }
                let length = max(abs(b.lat - a.lat), abs(bLng - aLng))
                let samples = max(1, Int((length / step).rounded(.up)))
                for s in 0...samples {
                    let t = Double(s) / Double(samples)
                    var lng = aLng + (bLng - aLng) * t
                    if lng > Double.pi { lng -= 2 * Double.pi }
                    let seed = try latLngToCell(LatLng(lat: a.lat + (b.lat - a.lat) * t, lng: lng), resolution: resolution)
                    disk.removeAll(keepingCapacity: true)
                    try gridDisk(seed, k: 2, into: &disk)
                    for c in disk { try consider(c) }
                }
            }
        }
        while let c = queue.popLast() {
            disk.removeAll(keepingCapacity: true)
            try gridDisk(c, k: 1, into: &disk)
            for n in disk { try consider(n) }
        }
        return inside.sorted()
    }
}

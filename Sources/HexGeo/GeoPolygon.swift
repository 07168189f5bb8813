import Vocabulary

/// A polygon on the sphere: an outer loop and optional holes, vertices in radians, edges straight in
/// latitude/longitude (as H3 treats them). Loops are implicitly closed; the last vertex need not repeat the first.
public struct GeoPolygon: Sendable, Hashable {
    /// The outer boundary.
    public let outer: [LatLng]
    /// Holes cut out of the outer area.
    public let holes: [[LatLng]]
    /// Bounding boxes: the outer loop's first, then each hole's.
    public let boxes: [BoundingBox]

    /// A polygon from its loops (radians).
    public init(outer: [LatLng], holes: [[LatLng]] = []) {
        self.outer = outer
        self.holes = holes
        boxes = [BoundingBox(loop: outer)] + holes.map { BoundingBox(loop: $0) }
    }

    /// The outer loop's bounding box.
    public var boundingBox: BoundingBox { boxes[0] }

    /// Whether `p` is inside the outer loop and outside every hole, by H3's ray-casting rule
    /// (`pointInsidePolygon`), so cell-centre containment agrees with H3's `polygonToCells`.
    public func contains(_ p: LatLng) -> Bool {
        guard GeoPolygon.loopContains(outer, boxes[0], p) else { return false }
        for (n, hole) in holes.enumerated() where GeoPolygon.loopContains(hole, boxes[n + 1], p) { return false }
        return true
    }

    /// Ray casting eastwards, with H3's nudges for rays through vertices.
    static func loopContains(_ loop: [LatLng], _ box: BoundingBox, _ p: LatLng) -> Bool {
        guard !loop.isEmpty, box.contains(p) else { return false }
        let transmeridian = box.isTransmeridian
        @inline(__always) func norm(_ lng: Double) -> Double {
            transmeridian && lng < 0 ? lng + H3Const.twoPi : lng
        }
        var contains = false
        var lat = p.lat
        var lng = norm(p.lng)
        for n in loop.indices {
            var a = loop[n], b = loop[(n + 1) % loop.count]
            if a.lat > b.lat { swap(&a, &b) }
            if lat == a.lat || lat == b.lat { lat += Double.ulpOfOne }
            if lat < a.lat || lat > b.lat { continue }
            let aLng = norm(a.lng), bLng = norm(b.lng)
            if aLng == lng || bLng == lng { lng -= Double.ulpOfOne }
            let ratio = (lat - a.lat) / (b.lat - a.lat)
            let testLng = norm(aLng + (bLng - aLng) * ratio)
            if testLng > lng { contains.toggle() }
        }
        return contains
    }
}

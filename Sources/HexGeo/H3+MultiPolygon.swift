import Vocabulary

extension H3 {
    /// The outline of a set of cells as polygons: each polygon is an outer ring (counter-clockwise) followed by its
    /// holes (clockwise); rings list vertices in radians without repeating the first.
    ///
    /// Cell edges shared by two cells of the set cancel; the rest are chained into rings. Neighbouring cells compute a
    /// shared vertex from the same grid coordinate, so vertices are matched after rounding to about a millimetre.
    public static func cellsToMultiPolygon(_ cells: [H3Cell]) throws(HexGeoError) -> [[[LatLng]]] {
        struct Key: Hashable { var lat: Int64; var lng: Int64 }
        func key(_ p: LatLng) -> Key { Key(lat: Int64((p.lat * 1e10).rounded()), lng: Int64((p.lng * 1e10).rounded())) }
        struct Edge: Hashable { var from: Key; var to: Key }
        var edges: [Edge: LatLng] = [:]   // directed boundary edge → its start vertex
        for cell in Set(cells) {
            let boundary = try cellToBoundary(cell)
            let n = boundary.count
            for i in 0..<n {
                let a = boundary[i], b = boundary[(i + 1) % n]
                let edge = Edge(from: key(a), to: key(b))
                // An edge walked the other way by a neighbour is inside the union.
                if edges.removeValue(forKey: Edge(from: edge.to, to: edge.from)) == nil { edges[edge] = a }
            }
        }
        var outgoing: [Key: [Edge]] = [:]
        for edge in edges.keys { outgoing[edge.from, default: []].append(edge) }
        var rings: [[LatLng]] = []
        for start in edges.keys.sorted(by: { ($0.from.lat, $0.from.lng, $0.to.lat, $0.to.lng) < ($1.from.lat, $1.from.lng, $1.to.lat, $1.to.lng) }) {
            guard var list = outgoing[start.from], let first = list.firstIndex(of: start) else { continue }
            list.remove(at: first)
            outgoing[start.from] = list
            var ring: [LatLng] = []
            var edge = start
            while true {
                if let p = edges[edge] { ring.append(p) }
                guard var next = outgoing[edge.to], !next.isEmpty else { break }
                edge = next.removeLast()
                outgoing[edge.from] = next
            }
            if ring.count >= 3 { rings.append(ring) }
        }
        var outers: [(ring: [LatLng], area: Double)] = [], holes: [[LatLng]] = []
        for ring in rings {
            let area = signedArea(ring)
            if area > 0 { outers.append((ring, area)) } else { holes.append(ring) }
        }
        var polygons = outers.map { [$0.ring] }
        for hole in holes {
            // The smallest outer ring that contains the hole.
            var best = -1
            for (i, outer) in outers.enumerated() where contains(outer.ring, hole[0]) {
                if best < 0 || outer.area < outers[best].area { best = i }
            }
            if best >= 0 { polygons[best].append(hole) }
        }
        return polygons
    }

    /// Twice the signed area of a ring in (lng, lat) radians: positive when counter-clockwise.
    static func signedArea(_ ring: [LatLng]) -> Double {
        var sum = 0.0
        for i in ring.indices {
            let a = ring[i], b = ring[(i + 1) % ring.count]
            sum += a.lng * b.lat - b.lng * a.lat
        }
        return sum
    }

    /// Even-odd ray casting in (lng, lat); a vertex shared with the ring counts by the usual half-open rule.
    static func contains(_ ring: [LatLng], _ p: LatLng) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let a = ring[i], b = ring[j]
            if (a.lat > p.lat) != (b.lat > p.lat), p.lng < (b.lng - a.lng) * (p.lat - a.lat) / (b.lat - a.lat) + a.lng { inside.toggle() }
            j = i
        }
        return inside
    }
}

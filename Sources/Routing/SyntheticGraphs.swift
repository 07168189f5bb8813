/// Generated road graphs for scale benchmarks (correctness claims always use real OSM data).
public enum SyntheticGraphs {
    /// A `columns × rows` grid of two-way streets 100 m apart near (45°N, 7°E), with a seeded mix of speeds:
    /// every 10th row and column is an arterial at 60 km/h, the rest residential at 20–40 km/h, and about 5 % of
    /// residential segments are one-way, so the graph is road-like rather than uniform.
    public static func grid(columns: Int, rows: Int, seed: UInt64 = 1) -> RoadGraph {
        var state = seed
        func random() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let n = columns * rows
        let dLat = 100 / 111_195.0, dLng = 100 / (111_195.0 * 0.7071)
        var lat = [Double](repeating: 0, count: n), lng = [Double](repeating: 0, count: n), ids = [Int64](repeating: 0, count: n)
        for r in 0..<rows {
            for c in 0..<columns {
                let v = r * columns + c
                lat[v] = 45 + Double(r) * dLat
                lng[v] = 7 + Double(c) * dLng
                ids[v] = Int64(v)
            }
        }
        var tails: [UInt32] = [], heads: [UInt32] = [], durations: [UInt32] = [], lengths: [Double] = []
        tails.reserveCapacity(4 * n); heads.reserveCapacity(4 * n); durations.reserveCapacity(4 * n); lengths.reserveCapacity(4 * n)
        func add(_ a: Int, _ b: Int, arterial: Bool) {
            let kmh = arterial ? 60.0 : 20 + Double(random() % 21)
            let ms = UInt32((100 / (kmh / 3.6) * 1000).rounded())
            let oneway = !arterial && random() % 20 == 0
            tails.append(UInt32(a)); heads.append(UInt32(b)); durations.append(ms); lengths.append(100)
            if !oneway { tails.append(UInt32(b)); heads.append(UInt32(a)); durations.append(ms); lengths.append(100) }
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let v = r * columns + c
                if c + 1 < columns { add(v, v + 1, arterial: r % 10 == 0) }
                if r + 1 < rows { add(v, v + columns, arterial: c % 10 == 0) }
            }
        }
        return RoadGraph.build(latDegrees: lat, lngDegrees: lng, osmNodeIds: ids, tails: tails, heads: heads,
                               durationsMs: durations, lengthsMeters: lengths)
    }
}

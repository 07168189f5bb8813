import Foundation
import HexGeo
import Routing
import Vocabulary

// Shared by the routing benchmarks and Benchmarks/scripts/match_cpu.swift (which match-cpu.sh compiles with this
// file), so both measure the matcher on the same trace.

/// SplitMix64: a small seeded generator, so fixtures repeat across runs and builds.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum SyntheticTrace {
    /// `count` fixes every 30 m along consecutive fastest routes between random nodes of `network`, blurred by
    /// Gaussian noise of σ = 15 m on each axis (the accuracy setting), 3 s apart.
    static func points(_ network: RoadNetwork, seed: UInt64, count: Int = 1_000) -> [TracePoint] {
        var rng = SplitMix(seed: seed)
        let g = network.graph
        var query = network.makeQuery()
        var corners: [LatLng] = []
        var from = Int.random(in: 0..<g.nodeCount, using: &rng)
        var length = 0.0
        while length < 31.0 * Double(count) {
            let to = Int.random(in: 0..<g.nodeCount, using: &rng)
            guard let route = try? query.route(fromNode: from, toNode: to), route.distanceMeters > 500 else { continue }
            corners += route.points
            length += route.distanceMeters
            from = to
        }
        var points: [TracePoint] = []
        var carried = 0.0
        func gaussian() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        for i in 1..<corners.count where points.count < count {
            let a = corners[i - 1], b = corners[i]
            let d = Geodesy.distanceMeters(a, b)
            var s = 30 - carried
            while s <= d && points.count < count {
                let f = s / d, r = Geodesy.earthRadiusMeters
                let lat = a.lat + f * (b.lat - a.lat), lng = a.lng + f * (b.lng - a.lng)
                points.append(TracePoint(position: LatLng(lat: lat + 15 * gaussian() / r, lng: lng + 15 * gaussian() / (r * cos(lat))),
                                         timestampMs: Int64(points.count) * 3_000))
                s += 30
            }
            carried = d - (s - 30)
        }
        return points
    }
}

import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

/// Known routes on the real extracts, sampled and blurred like GPS, then matched back.
enum MatchTraces {
    /// A fastest route between random nodes whose length lies in `lengths`, with its geometry.
    static func route(_ network: RoadNetwork, lengths: ClosedRange<Double>, rng: inout SeededRandom) throws -> Route {
        var query = network.makeQuery()
        let n = network.graph.nodeCount
        for _ in 0..<10_000 {
            let route = try query.route(fromNode: Int.random(in: 0..<n, using: &rng), toNode: Int.random(in: 0..<n, using: &rng))
            if let route, lengths.contains(route.distanceMeters) { return route }
        }
        throw RoutingError(.badInput, "no route of \(lengths) m found")
    }

    /// The route's directed edges, as (tail, head) positions so parallel copies of one road compare equal.
    static func segments(_ network: RoadNetwork, nodes: [Int]) -> [SegmentKey] {
        guard nodes.count > 1 else { return [] }
        return (1..<nodes.count).map { SegmentKey(network.graph.coordinate(nodes[$0 - 1]), network.graph.coordinate(nodes[$0])) }
    }

    static func segments(_ network: RoadNetwork, edges: [Int]) -> [SegmentKey] {
        edges.map { SegmentKey(network.graph.coordinate(network.snapIndex.tail(of: $0)), network.graph.coordinate(Int(network.graph.forwardHeads[$0]))) }
    }

    struct SegmentKey: Hashable {
        var a: LatLng, b: LatLng
        init(_ a: LatLng, _ b: LatLng) { self.a = a; self.b = b }
    }

    /// Points every `spacing` meters along `points` (the first and the last included).
    static func sample(_ points: [LatLng], every spacing: Double) -> [LatLng] {
        guard let first = points.first else { return [] }
        var out = [first]
        var carried = 0.0
        for i in 1..<points.count {
            let a = points[i - 1], b = points[i]
            let length = Geodesy.distanceMeters(a, b)
            var s = spacing - carried
            while s <= length {
                let f = s / length
                out.append(LatLng(lat: a.lat + f * (b.lat - a.lat), lng: a.lng + f * (b.lng - a.lng)))
                s += spacing
            }
            carried = length - (s - spacing)
        }
        if let last = points.last, out.last != last { out.append(last) }
        return out
    }

    /// `p` moved by independent Gaussian noise of `sigma` meters north and east.
    static func blur(_ p: LatLng, sigma: Double, rng: inout SeededRandom) -> LatLng {
        func gaussian() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        let r = Geodesy.earthRadiusMeters
        return LatLng(lat: p.lat + sigma * gaussian() / r, lng: p.lng + sigma * gaussian() / (r * cos(p.lat)))
    }

    /// The route sampled every 30 m and blurred by σ, as a trace one second per fix.
    static func trace(_ route: Route, sigma: Double, spacing: Double = 30, rng: inout SeededRandom) -> [TracePoint] {
        sample(route.points, every: spacing).enumerated().map { i, p in
            TracePoint(position: blur(p, sigma: sigma, rng: &rng), timestampMs: 1_700_000_000_000 + Int64(i) * 3_000)
        }
    }

    /// Share of the route's segments that the matched path drives.
    static func coverage(_ network: RoadNetwork, route: Route, match: MapMatch) -> Double {
        let wanted = segments(network, nodes: route.nodes)
        let driven = Set(segments(network, edges: match.edges))
        guard !wanted.isEmpty else { return 1 }
        return Double(wanted.filter { driven.contains($0) }.count) / Double(wanted.count)
    }
}

@Suite("Map matching")
struct MapMatchingTests {
    @Test("routes sampled every 30 m with σ = 15 m noise match back within 3 % of length and ≥ 90 % of edges",
          arguments: ["monaco", "andorra"])
    func noisyRoutes(city: String) throws {
        let network = try Cities.network(city)
        var matcher = MapMatcher(network: network)
        var worstLength = 0.0, worstCoverage = 1.0
        for seed in UInt64(1)...24 {
            var rng = SeededRandom(seed: seed * 7_919)
            let route = try MatchTraces.route(network, lengths: 1_000...12_000, rng: &rng)
            let trace = MatchTraces.trace(route, sigma: 15, rng: &rng)
            let match = matcher.match(trace)
            let lengthError = abs(match.distanceMeters - route.distanceMeters) / route.distanceMeters
            let coverage = MatchTraces.coverage(network, route: route, match: match)
            worstLength = max(worstLength, lengthError)
            worstCoverage = min(worstCoverage, coverage)
            #expect(lengthError <= 0.03, "\(city) seed \(seed): \(match.distanceMeters) m matched, route \(route.distanceMeters) m")
            #expect(coverage >= 0.9, "\(city) seed \(seed): \(coverage) of the route's edges")
            #expect(match.matched.count == trace.count)
            #expect(match.breaks.isEmpty, "\(city) seed \(seed): \(match.breaks)")
            #expect(match.confidence > 0 && match.confidence <= 1)
            // The polyline decodes to the path's points.
            let decoded = try #require(Polyline.decode(match.polyline))
            #expect(decoded.count == match.points.count)
        }
        print("\(city): worst length error \(worstLength), worst edge coverage \(worstCoverage)")
    }
}

@Suite("Map matching diagnostics")
struct MapMatchingDiagnostics {
    @Test func sweep() throws {
        let network = try Cities.network("monaco")
        var matcher = MapMatcher(network: network)
        let env = ProcessInfo.processInfo.environment
        var options = MapMatcher.Options()
        options.sigmaMeters = env["MM_SIGMA"].flatMap(Double.init)
        options.betaMeters = env["MM_BETA"].flatMap(Double.init)
        options.maxCandidates = env["MM_K"].flatMap(Int.init) ?? options.maxCandidates
        options.beamNats = env["MM_BEAM"].flatMap(Double.init) ?? options.beamNats
        for noise in [15.0] {
            var lines: [String] = []
            for seed in UInt64(env["MM_SEED"].flatMap(UInt64.init) ?? 1)...UInt64(env["MM_SEED"].flatMap(UInt64.init) ?? 8) {
                var rng = SeededRandom(seed: seed * 7_919)
                let route = try MatchTraces.route(network, lengths: 1_000...12_000, rng: &rng)
                let trace = MatchTraces.trace(route, sigma: noise, rng: &rng)
                let match = matcher.match(trace, options: options)
                let cov = MatchTraces.coverage(network, route: route, match: match)
                var uturns = 0, uturnMeters = 0.0
                for k in match.edges.indices.dropFirst() {
                    let e = match.edges[k - 1], f = match.edges[k]
                    if network.snapIndex.tail(of: f) == Int(network.graph.forwardHeads[e]) && Int(network.graph.forwardHeads[f]) == network.snapIndex.tail(of: e) {
                        uturns += 1; uturnMeters += network.graph.lengthsMeters[e]
                    }
                }
                print("seed \(seed) uturns \(uturns) \(Int(uturnMeters)) m, route \(Int(route.distanceMeters)) matched \(Int(match.distanceMeters))")
                lines.append(String(format: "%.3f/%.2f/b%d/s%.1f", match.distanceMeters / route.distanceMeters, cov, match.breaks.count, match.sigmaMeters))
            }
            print("noise \(noise): " + lines.joined(separator: " "))
        }
    }
}

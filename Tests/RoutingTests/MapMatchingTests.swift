import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

/// Known routes on the real extracts, sampled and blurred like GPS, then matched back.
enum MatchTraces {
    /// A fastest route between the places of random nodes whose length lies in `lengths`, with its geometry. From the
    /// place, not the node: a node may be a junction's copy for one approach (turn costs), and a route from it would
    /// start by turning back, which no trip from a place does.
    static func route(_ network: RoadNetwork, lengths: ClosedRange<Double>, rng: inout SeededRandom) throws -> Route {
        var query = network.makeQuery()
        let g = network.graph, n = g.nodeCount
        for _ in 0..<10_000 {
            let from = g.coordinate(Int.random(in: 0..<n, using: &rng)), to = g.coordinate(Int.random(in: 0..<n, using: &rng))
            let route = try query.route(from: from, to: to)
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
    /// The accuracy setting, per trace: within 3 % of the route's length and ≥ 90 % of its edges. Not every
    /// trace meets it yet (docs/routing.md, Map matching, gives the measured share and the failure modes), so the test
    /// holds the share of traces that do, the median errors, and that no trace is grossly wrong.
    @Test("routes sampled every 30 m with σ = 15 m noise match back within 3 % of length and ≥ 90 % of edges",
          arguments: ["monaco", "andorra", "helsinki"])
    func noisyRoutes(city: String) throws {
        let network = try Cities.network(city)
        var matcher = MapMatcher(network: network)
        var lengthErrors: [Double] = [], coverages: [Double] = []
        var meeting = 0
        let seeds = UInt64(1)...30
        for seed in seeds {
            var rng = SeededRandom(seed: seed * 7_919)
            let route = try MatchTraces.route(network, lengths: 1_000...12_000, rng: &rng)
            let trace = MatchTraces.trace(route, sigma: 15, rng: &rng)
            let match = matcher.match(trace)
            let lengthError = abs(match.distanceMeters - route.distanceMeters) / route.distanceMeters
            let coverage = MatchTraces.coverage(network, route: route, match: match)
            lengthErrors.append(lengthError)
            coverages.append(coverage)
            if lengthError <= 0.03 && coverage >= 0.9 { meeting += 1 }
            #expect(lengthError <= 0.5 && coverage >= 0.75, "\(city) seed \(seed): \(match.distanceMeters) m matched, route \(route.distanceMeters) m, \(coverage) of its edges")
            #expect(match.matched.count == trace.count)
            let unmatched = match.matched.filter { $0 == nil }.count
            #expect(Double(unmatched) <= 0.05 * Double(trace.count), "\(city) seed \(seed): \(unmatched) fixes unmatched")
            #expect(match.confidence > 0 && match.confidence <= 1)
            let decoded = try #require(Polyline.decode(match.polyline))
            #expect(decoded.count == match.points.count)
        }
        lengthErrors.sort()
        coverages.sort()
        let share = Double(meeting) / Double(seeds.count)
        print("\(city): \(meeting)/\(seeds.count) traces meet both; median length error \(lengthErrors[lengthErrors.count / 2]), median coverage \(coverages[coverages.count / 2]), worst \(lengthErrors.last ?? 0) / \(coverages.first ?? 0)")
        #expect(lengthErrors[lengthErrors.count / 2] <= 0.03)
        #expect(coverages[coverages.count / 2] >= 0.9)
        #expect(share >= Self.minimumShare[city, default: 1], "\(city): \(meeting) of \(seeds.count) traces meet the target")
    }

    /// Shares of traces meeting the target, measured (docs/routing.md) less a margin; raise them as the matcher improves.
    /// Measured before turn costs (routes from nodes): Monaco 29/30, Andorra 29/30, Helsinki 21/30 (its routes are
    /// 1–2.4 km, so the ends' noise alone is about 2 % of the length). With turn costs in the car graph (routes from
    /// places, fastest under the turn penalties, so with more turns): Monaco 25/30 (26/30 on the same traces without
    /// turn costs), Helsinki 19–20/30 between runs; see docs/routing.md.
    /// With the path's ends fitted and σ re-estimated from the residuals (same traces): Monaco 27/30, Andorra 29/30,
    /// Helsinki 25/30. With jitter charged as standing still, 48 candidates, the 1σ still rule, a 12-fix end window
    /// and outliers left unexplained (same traces): Monaco 29/30, Andorra 30/30, Helsinki 29/30; held at the issue's
    /// 28/30 (one trace of margin) and 29/30 in Andorra.
    static let minimumShare = ["monaco": 0.93, "andorra": 0.96, "helsinki": 0.93]

    @Test("turn shares of the matcher's turn cost: straight on 0, a right angle ½, turning back 1")
    func turnShares() {
        let g = SyntheticGraphs.grid(columns: 5, rows: 5)
        var checked = 0
        for b in 0..<g.nodeCount {
            let neighbours = g.outgoing(b).map { Int(g.forwardHeads[$0]) }
            guard Set(neighbours).count == 4 else { continue }
            for a in neighbours {
                for c in neighbours {
                    let dot = (g.latDegrees[b] - g.latDegrees[a]) * (g.latDegrees[c] - g.latDegrees[b])
                        + (g.lngDegrees[b] - g.lngDegrees[a]) * (g.lngDegrees[c] - g.lngDegrees[b])
                    let expected = a == c ? 1.0 : (abs(dot) < 1e-12 ? 0.5 : 0)
                    #expect(abs(g.turnShare(a, b, c) - expected) < 1e-6, "\(a) → \(b) → \(c)")
                }
            }
            checked += 1
        }
        #expect(checked >= 4)
    }

    @Test("a matched path's ends move along it: forward past whole edges, back only within the end edges, never past each other")
    func movingEnds() throws {
        let network = RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 6, rows: 1))
        let g = network.graph
        // A straight run of directed edges along the row, 0 → 1 → … → 5.
        var edges: [Int] = []
        for v in 0..<5 { edges.append(try #require(g.outgoing(v).first { Int(g.forwardHeads[$0]) == v + 1 })) }
        let length = g.lengthsMeters[edges[0]]
        func path() -> MatchedPath {
            var p = MatchedPath(network: network)
            p.runs = [MatchedPath.Run(edges: edges, startOffset: 0.25 * length, endOffset: 0.75 * length, startPoint: g.coordinate(0))]
            return p
        }
        let whole = path().totals(durationsMs: Array(g.durationsMs)).meters
        #expect(abs(whole - 4.5 * length) < 1e-6)
        var p = path()
        p.moveStart(ofRun: 0, by: 1.5 * length)   // past the first edge, into the third
        #expect(p.runs[0].edges == Array(edges.dropFirst(1)))
        #expect(abs(p.totals(durationsMs: Array(g.durationsMs)).meters - 3 * length) < 1e-6)
        p.moveEnd(ofRun: 0, by: -length)          // back over the last edge's part and into the fourth
        #expect(p.runs[0].edges.count == 3)
        #expect(abs(p.totals(durationsMs: Array(g.durationsMs)).meters - 2 * length) < 1e-6)
        p = path()
        p.moveStart(ofRun: 0, by: -length)        // back: only to the first edge's tail
        p.moveEnd(ofRun: 0, by: length)           // forward: only to the last edge's head
        #expect(abs(p.totals(durationsMs: Array(g.durationsMs)).meters - 5 * length) < 1e-6)
        p = path()
        p.moveStart(ofRun: 0, by: 10 * length)    // never past the end
        #expect(p.totals(durationsMs: Array(g.durationsMs)).meters < 1e-6)
        #expect(p.runs[0].edges == [edges[4]])
    }

    /// The upper noise bound: the same routes blurred by σ = 30 m on each axis. Measured on seeds 1–30:
    /// Monaco 20, Andorra 23, Helsinki 17 meet the per-trace target (main's matcher: 7, 21, 6, most of the failures
    /// stretches driven out and back); held two traces lower.
    static let minimumAtThirtyMeters = ["monaco": 18, "andorra": 21, "helsinki": 15]

    @Test("routes with σ = 30 m noise match back within 3 % of length and ≥ 90 % of edges on most seeds",
          arguments: ["monaco", "andorra", "helsinki"])
    func veryNoisyRoutes(city: String) throws {
        let network = try Cities.network(city)
        var matcher = MapMatcher(network: network)
        var meeting = 0
        for seed in UInt64(1)...30 {
            var rng = SeededRandom(seed: seed * 7_919)
            let route = try MatchTraces.route(network, lengths: 1_000...12_000, rng: &rng)
            let trace = MatchTraces.trace(route, sigma: 30, rng: &rng)
            let match = matcher.match(trace)
            let lengthError = abs(match.distanceMeters - route.distanceMeters) / route.distanceMeters
            if lengthError <= 0.03 && MatchTraces.coverage(network, route: route, match: match) >= 0.9 { meeting += 1 }
        }
        print("\(city), σ = 30 m: \(meeting)/30 traces meet both")
        #expect(meeting >= Self.minimumAtThirtyMeters[city, default: 30], "\(city): \(meeting) of 30 traces meet the target at σ = 30 m")
    }

    @Test("σ measured from the residuals of a σ = 15 m trace lies near 15 m, whatever the nearest-road estimate was")
    func measuredSigma() throws {
        let network = try Cities.network("andorra")
        var matcher = MapMatcher(network: network)
        var rng = SeededRandom(seed: 77)
        let route = try MatchTraces.route(network, lengths: 3_000...8_000, rng: &rng)
        let trace = MatchTraces.trace(route, sigma: 15, rng: &rng)
        let match = matcher.match(trace)
        #expect(match.sigmaMeters > 10 && match.sigmaMeters < 20, "σ \(match.sigmaMeters)")
        let sigma = try #require(MapMatcher.residualSigma(trace, match))
        #expect(sigma > 10 && sigma < 20, "residual σ \(sigma)")
    }

    @Test("clean and lightly noisy traces match exactly or nearly", arguments: [0.0, 5.0])
    func lowNoise(sigma: Double) throws {
        let network = try Cities.network("monaco")
        var matcher = MapMatcher(network: network)
        for seed in UInt64(1)...10 {
            var rng = SeededRandom(seed: seed * 31)
            let route = try MatchTraces.route(network, lengths: 1_000...8_000, rng: &rng)
            let match = matcher.match(MatchTraces.trace(route, sigma: sigma, rng: &rng))
            let lengthError = abs(match.distanceMeters - route.distanceMeters) / route.distanceMeters
            // Even a clean trace may take a shorter way than the fastest route between two fixes 30 m apart.
            #expect(lengthError <= (sigma == 0 ? 0.01 : 0.03), "seed \(seed): \(match.distanceMeters) vs \(route.distanceMeters)")
            #expect(MatchTraces.coverage(network, route: route, match: match) >= (sigma == 0 ? 0.97 : 0.9), "seed \(seed)")
            #expect(match.breaks.isEmpty)
        }
    }

    @Test("a gap in the trace is bridged by road; a gap beyond breakMeters is a reported, bridged break; off-road fixes are unmatched")
    func gaps() throws {
        let network = try Cities.network("andorra")
        var matcher = MapMatcher(network: network)
        var rng = SeededRandom(seed: 404)
        let route = try MatchTraces.route(network, lengths: 6_000...15_000, rng: &rng)
        var trace = MatchTraces.trace(route, sigma: 5, rng: &rng)
        // 600 m without fixes in the middle: still one piece of the model, the path follows the road through it.
        let middle = trace.count / 2
        var gapped = trace
        gapped.removeSubrange(middle..<(middle + 20))
        let one = matcher.match(gapped)
        #expect(one.breaks.isEmpty)
        #expect(abs(one.distanceMeters - route.distanceMeters) <= 0.03 * route.distanceMeters, "\(one.distanceMeters) vs \(route.distanceMeters)")
        // A gap longer than breakMeters restarts the model; the pieces are joined by a road route.
        var options = MapMatcher.Options()
        let jump = Geodesy.distanceMeters(gapped[middle - 1].position, gapped[middle].position)
        try #require(jump > 200, "the gap spans \(jump) m in a straight line")
        options.breakMeters = jump / 2
        let split = matcher.match(gapped, options: options)
        #expect(split.breaks.count == 1)
        #expect(split.breaks.first?.index == middle)
        #expect(split.breaks.first?.reason == .gap)
        #expect(split.breaks.first?.bridged == true)
        #expect(abs(split.distanceMeters - route.distanceMeters) <= 0.05 * route.distanceMeters, "\(split.distanceMeters) vs \(route.distanceMeters)")
        // A fix 2 km off any road it could be on is not matched and does not bend the path.
        let far = LatLng(degrees: trace[10].position.latDegrees + 0.02, trace[10].position.lngDegrees)
        if network.snapIndex.snap(far).map({ $0.distanceMeters > 200 }) ?? true {
            trace[10] = TracePoint(position: far, timestampMs: trace[10].timestampMs)
            let withOutlier = matcher.match(trace)
            #expect(withOutlier.matched[10] == nil)
            #expect(abs(withOutlier.distanceMeters - route.distanceMeters) <= 0.03 * route.distanceMeters)
        }
        // One fix: a point on the road, nothing driven.
        let single = matcher.match([trace[0]])
        #expect(single.matched.count == 1 && single.matched[0] != nil)
        #expect(single.distanceMeters < 1e-9)
        #expect(matcher.match([]).matched.isEmpty)
    }
}

import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Live speeds")
struct LiveTrafficTests {
    @Test("pings of a slow driver lower observed speeds, and re-customized weights route like Dijkstra on them")
    func slowDriver() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 17)
        // A route of at least 1 km between random nodes.
        var route: Route?
        while route == nil || route!.distanceMeters < 1_000 {
            route = try query.route(fromNode: Int.random(in: 0..<g.nodeCount, using: &rng), toNode: Int.random(in: 0..<g.nodeCount, using: &rng))
        }
        let path = try #require(route)
        // Drive it at 12 km/h, pinging every 2 s.
        let live = LiveTraffic(network: network)
        let speed = 12 / 3.6
        var t: Int64 = 1_700_000_000_000
        var updated = 0
        var travelled = 0.0
        var nextPing = 0.0
        for i in 1..<path.nodes.count {
            let a = g.coordinate(path.nodes[i - 1]), b = g.coordinate(path.nodes[i])
            let length = Geodesy.distanceMeters(a, b)
            while nextPing <= travelled + length {
                let f = length > 0 ? (nextPing - travelled) / length : 0
                let p = LatLng(lat: a.lat + f * (b.lat - a.lat), lng: a.lng + f * (b.lng - a.lng))
                updated += live.observe(driverId: 7, position: p, timestampMs: t)
                t += 2_000
                nextPing += 2 * speed
            }
            travelled += length
        }
        #expect(live.observations > 10)
        #expect(updated > 10)
        var slowEdges = 0
        for e in 0..<g.edgeCount { if let v = live.observedSpeedKmh(edge: e) { #expect(v < 30); slowEdges += 1 } }
        #expect(slowEdges > 5)
        // A stale or duplicate timestamp changes nothing.
        #expect(live.observe(driverId: 7, position: g.coordinate(path.nodes.last!), timestampMs: t - 10_000) == 0)

        let weights = live.makeCustomization().run()
        #expect(weights.generation == 1)
        var liveQuery = network.makeQuery(weights: weights)
        let slow = try #require(try liveQuery.route(fromNode: path.nodes.first!, toNode: path.nodes.last!))
        #expect(slow.durationSeconds > path.durationSeconds)
        var dijkstra = DijkstraQuery(graph: g, weights: weights.edgeWeights)
        for _ in 0..<100 {
            let s = Int.random(in: 0..<g.nodeCount, using: &rng), x = Int.random(in: 0..<g.nodeCount, using: &rng)
            #expect(liveQuery.durationMs(fromNode: s, toNode: x) == dijkstra.durationMs(from: s, to: x))
        }
    }

    @Test("noisy pings of a driver at 36 km/h are attributed, by the map matcher, to the roads driven at about that speed")
    func noisyPings() throws {
        let network = try Cities.network("monaco")
        var rng = SeededRandom(seed: 2_026)
        let route = try MatchTraces.route(network, lengths: 2_000...6_000, rng: &rng)
        let live = LiveTraffic(network: network)
        // 10 m/s, a ping every 2 s (20 m apart), GPS noise σ = 8 m on each axis.
        let trace = MatchTraces.sample(route.points, every: 20)
        var t: Int64 = 1_700_000_000_000
        for p in trace {
            live.observe(driverId: 9, position: MatchTraces.blur(p, sigma: 8, rng: &rng), timestampMs: t)
            t += 2_000
        }
        let onRoute = Set(MatchTraces.segments(network, nodes: route.nodes))
        var observed = 0, offRoute = 0, speeds: [Double] = []
        for e in 0..<network.graph.edgeCount {
            guard let v = live.observedSpeedKmh(edge: e) else { continue }
            observed += 1
            if onRoute.contains(MatchTraces.segments(network, edges: [e])[0]) { speeds.append(v) } else { offRoute += 1 }
        }
        #expect(observed > 20)
        #expect(Double(offRoute) <= 0.1 * Double(observed), "\(offRoute) of \(observed) observed edges are off the route")
        speeds.sort()
        let median = speeds.isEmpty ? 0 : speeds[speeds.count / 2]
        #expect(median > 28 && median < 46, "median observed speed \(median) km/h on the route")
    }

    @Test("background customization delivers a new weights object")
    func background() async throws {
        let network = try Cities.network("helsinki")
        let live = LiveTraffic(network: network)
        let weights = await withCheckedContinuation { (c: CheckedContinuation<RoutingWeights, Never>) in
            live.customizeInBackground { c.resume(returning: $0) }
        }
        #expect(weights.generation == 1)
        #expect(weights.edgeWeights == Array(network.graph.durationsMs))   // no observations: free flow
    }
}

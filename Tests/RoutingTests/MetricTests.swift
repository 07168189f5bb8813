import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Shortest-distance routes and matrices with both metrics")
struct MetricTests {
    @Test("distance routes equal Dijkstra on the edge lengths", arguments: ["monaco", "andorra", "helsinki"])
    func distanceEqualsDijkstra(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        let mm = network.distanceWeights.edgeWeights
        #expect(mm.count == g.edgeCount)
        var dijkstra = DijkstraQuery(graph: g, weights: mm)
        var query = network.makeQuery(optimize: .distance)
        var fastest = network.makeQuery()
        let seed: UInt64 = 20_261_205
        var rng = SeededRandom(seed: seed)
        var misses = 0, shorterThanFastest = 0
        for _ in 0..<300 {
            let s = Int.random(in: 0..<g.nodeCount, using: &rng), t = Int.random(in: 0..<g.nodeCount, using: &rng)
            let want = dijkstra.durationMs(from: s, to: t)
            let route = try query.route(fromNode: s, toNode: t)
            let got = route.map { UInt64(($0.distanceMeters * 1000).rounded()) }
            if want != got {
                misses += 1
                if misses <= 10 { Issue.record("seed \(seed) \(city) \(s)→\(t): CH \(String(describing: got)) mm, Dijkstra \(String(describing: want)) mm") }
            }
            guard let route else { continue }
            // The reported figures are the path's: its length in millimetres and its free-flow duration.
            var pathMm: UInt64 = 0, pathMs: UInt64 = 0, meters = 0.0
            for i in 1..<max(1, route.nodes.count) {
                let e = try #require(g.cheapestEdge(from: route.nodes[i - 1], to: route.nodes[i], weights: mm.withUnsafeBufferPointer { $0 }))
                pathMm += UInt64(mm[e]); pathMs += UInt64(g.durationsMs[e]); meters += g.lengthsMeters[e]
            }
            #expect(Double(pathMm) / 1000 == route.distanceMeters)
            #expect(Double(pathMs) / 1000 == route.durationSeconds)
            #expect(abs(meters - route.distanceMeters) <= 1e-3 * Double(route.nodes.count))
            // Never longer, never faster than the fastest route.
            let quick = try #require(try fastest.route(fromNode: s, toNode: t))
            #expect(route.distanceMeters <= quick.distanceMeters + 1e-3 * Double(quick.nodes.count))
            #expect(route.durationSeconds >= quick.durationSeconds)
            if route.distanceMeters < quick.distanceMeters - 1 { shorterThanFastest += 1 }
        }
        #expect(misses == 0, "\(misses) of 300 pairs differ (seed \(seed))")
        // The two metrics do pick different routes on real roads.
        #expect(shorterThanFastest > 0)
    }

    @Test("coordinate matrices equal coordinate routes on both metrics", arguments: [RoutingMetric.time, .distance])
    func matrixEqualsRoutes(_ metric: RoutingMetric) throws {
        for city in ["monaco", "andorra", "helsinki"] {
            let network = try Cities.network(city)
            var query = network.makeQuery(optimize: metric)
            var rng = SeededRandom(seed: 4242)
            let g = network.graph
            func randomPoint() -> LatLng {
                let v = Int.random(in: 0..<g.nodeCount, using: &rng)
                return LatLng(degrees: g.latDegrees[v] + Double.random(in: -0.001...0.001, using: &rng),
                              g.lngDegrees[v] + Double.random(in: -0.001...0.001, using: &rng))
            }
            let sources = (0..<15).map { _ in randomPoint() }, targets = (0..<20).map { _ in randomPoint() }
            let table = try query.table(sources: sources, targets: targets)
            #expect(table.durationsSeconds == (try query.matrix(sources: sources, targets: targets)))
            var misses = 0
            for (i, s) in sources.enumerated() {
                for (j, t) in targets.enumerated() {
                    let route = try query.route(from: s, to: t)
                    let duration = table.durationsSeconds[i][j], distance = table.distancesMeters[i][j]
                    let ok: Bool
                    if let route, let duration, let distance {
                        ok = abs(route.durationSeconds - duration) <= 1e-9 * max(1, duration)
                            && abs(route.distanceMeters - distance) <= 1e-9 * max(1, distance)
                    } else {
                        ok = route == nil && duration == nil && distance == nil
                    }
                    if !ok {
                        misses += 1
                        if misses <= 5 {
                            Issue.record("\(city) \(metric) \(i)→\(j): route \(String(describing: route?.durationSeconds)) s \(String(describing: route?.distanceMeters)) m, matrix \(String(describing: duration)) s \(String(describing: distance)) m")
                        }
                    }
                }
            }
            #expect(misses == 0, "\(city) \(metric): \(misses) of \(sources.count * targets.count) cells differ")
        }
    }

    @Test("the metric parses from its API name")
    func metricNames() {
        #expect(RoutingMetric(name: "time") == .time)
        #expect(RoutingMetric(name: "distance") == .distance)
        #expect(RoutingMetric(name: "shortest") == nil)
        #expect(RoutingMetric(name: "") == nil)
    }
}

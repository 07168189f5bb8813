import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Hour-of-week speeds")
struct HourOfWeekTests {
    static let monday2024: Int64 = 1_704_067_200_000   // 2024-01-01 00:00 UTC, a Monday

    @Test("buckets count hours from Monday 00:00 UTC")
    func buckets() {
        #expect(HourOfWeekSpeeds.bucket(timestampMs: Self.monday2024) == 0)
        #expect(HourOfWeekSpeeds.bucket(timestampMs: Self.monday2024 + 3_600_000 * 8 + 59 * 60_000) == 8)
        #expect(HourOfWeekSpeeds.bucket(timestampMs: Self.monday2024 - 1) == 167)
        #expect(HourOfWeekSpeeds.bucket(timestampMs: Self.monday2024 + 7 * 24 * 3_600_000) == 0)
        #expect(HourOfWeekSpeeds.bucket(timestampMs: 0) == 72, "1970-01-01 was a Thursday")
        #expect(HourOfWeekSpeeds.bucket(timestampMs: -1) == 71)
    }

    @Test("thin data is pulled toward free flow: (n × mean + k × free) / (n + k)")
    func smoothing() {
        var speeds = HourOfWeekSpeeds()
        speeds.add(kmh: 10, edges: [3], timestampMs: Self.monday2024)
        #expect(abs(speeds.smoothedKmh(edge: 3, bucket: 0, freeKmh: 50) - (10 + 5 * 50) / 6.0) < 1e-9)
        for _ in 0..<95 { speeds.add(kmh: 10, edges: [3], timestampMs: Self.monday2024 + 60_000) }
        #expect(abs(speeds.smoothedKmh(edge: 3, bucket: 0, freeKmh: 50) - (960 + 250) / 101.0) < 1e-3)
        #expect(speeds.smoothedKmh(edge: 3, bucket: 1, freeKmh: 50) == 50, "another hour saw nothing")
        #expect(speeds.count(edge: 3, bucket: 0) == 96 && speeds.observedEdges(bucket: 1) == 0)
    }

    @Test("a slow Monday-morning driver slows Monday 08:00 only; its weights route like Dijkstra on them")
    func slowMorning() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 23)
        var route: Route?
        while route == nil || route!.distanceMeters < 1_000 {
            route = try query.route(fromNode: Int.random(in: 0..<g.nodeCount, using: &rng), toNode: Int.random(in: 0..<g.nodeCount, using: &rng))
        }
        let path = try #require(route)
        let live = LiveTraffic(network: network)
        var t = Self.monday2024 + 8 * 3_600_000
        var travelled = 0.0, nextPing = 0.0
        for i in 1..<path.nodes.count {
            let a = g.coordinate(path.nodes[i - 1]), b = g.coordinate(path.nodes[i])
            let length = Geodesy.distanceMeters(a, b)
            while nextPing <= travelled + length {
                let f = length > 0 ? (nextPing - travelled) / length : 0
                live.observe(driverId: 9, position: LatLng(lat: a.lat + f * (b.lat - a.lat), lng: a.lng + f * (b.lng - a.lng)), timestampMs: t)
                t += 2_000
                nextPing += 2 * 8 / 3.6   // 8 km/h
            }
            travelled += length
        }
        #expect(live.hourly.observedEdges(bucket: 8) > 5)
        let morning = live.makeCustomization(hourOfWeek: 8).run()
        let afternoon = live.makeCustomization(hourOfWeek: 14).run()
        #expect(afternoon.edgeWeights == Array(g.durationsMs), "an hour without pings is free flow")
        #expect(morning.generation < 0)
        var slowQuery = network.makeQuery(weights: morning)
        let slow = try #require(try slowQuery.route(fromNode: path.nodes.first!, toNode: path.nodes.last!))
        #expect(slow.durationSeconds > path.durationSeconds * 1.05, "\(slow.durationSeconds) vs \(path.durationSeconds)")
        var dijkstra = DijkstraQuery(graph: g, weights: morning.edgeWeights)
        for _ in 0..<100 {
            let s = Int.random(in: 0..<g.nodeCount, using: &rng), x = Int.random(in: 0..<g.nodeCount, using: &rng)
            #expect(slowQuery.durationMs(fromNode: s, toNode: x) == dijkstra.durationMs(from: s, to: x))
        }
    }
}

@testable import Engine
import Foundation
import HexGeo
@testable import Routing
import Testing
import TestSupport
import Vocabulary

/// A drive-time fence follows the live weights: when new weights are swapped in (as a live-traffic customization
/// does), the fence is recomputed on them within about a second.
@Suite(.serialized) struct DriveTimeRecomputeTests {
    /// Monaco's free-flow weights with every edge 100 times slower, contracted with the free-flow order.
    private static func jammed(_ network: RoadNetwork) -> RoutingWeights {
        let g = network.graph
        let weights = g.durationsMs.map { $0.multipliedReportingOverflow(by: 100).overflow ? UInt32.max / 4 : $0 * 100 }
        let rank = network.freeFlow.hierarchy.rank
        var order = [UInt32](repeating: 0, count: rank.count)
        for v in 0..<rank.count { order[Int(rank[v])] = UInt32(v) }
        let hierarchy = weights.withUnsafeBufferPointer { Contractor.contract(g, weights: $0, order: order) }
        return RoutingWeights(edgeWeights: weights, hierarchy: hierarchy, generation: 1_000)
    }

    @Test("new live weights shrink a drive-time fence: a point it held before is outside it after, its centre still in")
    func recomputedOnNewWeights() throws {
        let trigger: UInt64 = 4_242
        let engine = try TestEngine(configure: { $0.graphPath = EngineRoutingTests.monaco }, setup: { engine in
            guard let roads = engine.routing.roads else { return }
            let slow = Self.jammed(roads.network)
            // The trigger driver's ping swaps the jammed weights in, on the loop, as a finished customization would.
            engine.ingest.onAccepted { states, _ in
                if states.contains(where: { $0.id.rawValue == trigger }) { roads.use(slow) }
            }
        })
        defer { engine.close() }
        let centre = LatLng(degrees: 43.7396, 7.4276)
        let body = #"{"id":"casino","shape":{"type":"drive_time","center":{"lat":43.7396,"lng":7.4276},"max_s":60}}"#
        #expect(try engine.post("/v1/fences", body).status == 201)
        func holds(_ p: LatLng) throws -> Bool {
            let r = try engine.get("/v1/fences/containing?lat=\(p.latDegrees)&lng=\(p.lngDegrees)")
            let found = ((r.json as? [String: Any])?["fences"] as? [[String: Any]]) ?? []
            return found.contains { $0["id"] as? String == "casino" }
        }
        // A point on the way out of the centre's resolution-8 cell that the 60 s fence holds.
        let route = try #require(try engine.get("/v1/route?from=43.7396,7.4276&to=43.7285,7.4150").json as? [String: Any])
        let polyline = try #require(route["polyline"] as? String)
        let points = try #require(Polyline.decode(polyline))
        let home = try H3.latLngToCell(centre, resolution: 8)
        var probe: LatLng?
        for p in points where try H3.latLngToCell(p, resolution: 8) != home {
            if try holds(p) { probe = p; break }
        }
        let outer = try #require(probe, "the 60 s fence reaches beyond its centre's cell")
        #expect(try holds(centre))

        let now = engine.nowMs
        let r = PingRecord(driverID: trigger, timestampMs: now, latE7: 437_396_000, lngE7: 74_276_000, status: 1)
        try sendUDP(port: engine.udp, [PingWire.encode([r], signerID: trigger, gateway: false, key: engine.keys.driverKey(trigger))])
        #expect(try eventually(within: 5) { try !holds(outer) }, "recomputed on the jammed weights")
        #expect(try holds(centre), "the centre itself is still within 60 s")
    }
}

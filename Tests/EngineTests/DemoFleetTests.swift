import Foundation
import Testing
import TestSupport

/// `serve --demo` as a visitor sees it: the demo fleet drives on the Monaco map, pings the engine's own UDP port and
/// takes the demo's orders.
@Suite(.serialized) struct DemoFleetTests {
    @Test("the demo fleet pings every driver into the index on the map and accepts dispatched orders")
    func fleetPingsAndTakesOrders() throws {
        let drivers = 30
        let engine = try TestEngine(configure: {
            $0.demo = true
            $0.demoDrivers = drivers
            $0.graphPath = SimulatorTests.monaco
            $0.dispatchIntervalMs = 500
        })
        defer { engine.close() }
        // Each driver pings every 2 s, the first within 2 s of the fleet's start.
        #expect(try eventually(within: 30) {
            try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") ?? 0 >= Double(drivers)
        })
        for id in 900_000..<(900_000 + drivers) {
            let r = try engine.get("/v1/drivers/\(id)")
            #expect(r.status == 200, "driver \(id)")
            let body = try #require(r.json as? [String: Any])
            let lat = try #require(body["lat"] as? Double), lng = try #require(body["lng"] as? Double)
            // The fixture's extract: Monaco and the French communes around it.
            #expect((43.65...43.85).contains(lat) && (7.25...7.60).contains(lng), "driver \(id) at \(lat),\(lng) is off the map")
        }
        // Orders arrive every few seconds; a demo courier accepts most offers within 3 s.
        #expect(try eventually(within: 40) {
            let stats = try engine.get("/v1/dispatch/stats").json as? [String: Any]
            return ((stats?["assigned"] as? NSNumber)?.intValue ?? 0) >= 1
        })
    }
}

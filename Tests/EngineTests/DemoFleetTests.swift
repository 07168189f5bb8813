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

    @Test("demo couriers accept stacked offers: a courier's route holds several orders, each pickup before its drop-off")
    func couriersStack() throws {
        // Three couriers and an order every few seconds: they fill up, so later orders are offered onto routes.
        let drivers = 3
        let engine = try TestEngine(configure: {
            $0.demo = true
            $0.demoDrivers = drivers
            $0.graphPath = SimulatorTests.monaco
            $0.dispatchIntervalMs = 500
        })
        defer { engine.close() }
        var routes: [[(order: UInt64, type: String)]] = []
        #expect(try eventually(within: 90) {
            routes = try (900_000..<(900_000 + drivers)).map { id in
                let stops = (try engine.get("/v1/drivers/\(id)/route").json as? [String: Any])?["stops"] as? [[String: Any]] ?? []
                return stops.map { (($0["order"] as? NSNumber)?.uint64Value ?? 0, $0["type"] as? String ?? "") }
            }
            return routes.contains { Set($0.map(\.order)).count >= 2 }
        }, "no demo courier took a second order: \(routes)")
        for stops in routes {
            // Orders on board show only their drop-off: they count from the start.
            var load = stops.filter { s in s.type == "dropoff" && !stops.contains { $0.order == s.order && $0.type == "pickup" } }.count
            for s in stops {
                load += s.type == "pickup" ? 1 : -1
                #expect((0...3).contains(load), "\(stops)")
            }
        }
        let stats = try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
        #expect((stats["stacked_offers"] as? NSNumber)?.intValue ?? 0 >= 1)
    }
}

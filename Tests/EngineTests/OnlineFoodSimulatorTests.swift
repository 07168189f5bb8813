import Foundation
import Testing
import TestSupport

/// `hexfleet simulate --scenario food` against a running engine (real sockets, the Monaco graph): orders carry the
/// food timing, couriers accept stacked offers up to their capacity and their routes stay feasible.
@Suite(.serialized) struct OnlineFoodSimulatorTests {
    static func number(_ json: [String: Any], _ key: String) throws -> Double {
        try #require((json[key] as? NSNumber)?.doubleValue, "missing \(key)")
    }

    /// A short lunch against an engine with stacking on; returns the engine (still running) and the run.
    func run(policy: String, drivers: Int, stacking: Bool) throws -> (TestEngine, SimulatorTests.Run) {
        let engine = try TestEngine(configure: {
            $0.graphPath = SimulatorTests.monaco
            $0.dispatchStacking = stacking
            // No hold and travel-only prices: 40 s of orders 6–21 minutes from ready still reach the couriers and
            // stack, so these runs check the simulator's couriers (the hold: StackedDispatchTests).
            $0.dispatchHoldLeadSeconds = 86_400
            $0.dispatchDelayWeight = 0
            $0.dispatchIntervalMs = 500
        })
        let secretHex = TestEngine.secret.map { String(format: "%02x", $0) }.joined()
        // 40 orders a minute at the peak for 40 s: about 15 orders on a few couriers, so offers stack.
        let run = try SimulatorTests.simulate(
            ["--scenario", "food", "--policy", policy, "--graph", SimulatorTests.monaco, "--graph-cache", SimulatorTests.graphCache,
             "--drivers", "\(drivers)", "--duration", "40", "--orders-per-minute", "40", "--drain", "0", "--seed", "3",
             "--first-driver-id", "500", "--udp", "127.0.0.1:\(engine.udp)", "--http", "127.0.0.1:\(engine.http)",
             "--report-every", "10"],
            environment: ["HEXFLEET_UDP_SECRET": secretHex, "HEXFLEET_ADMIN_TOKEN": TestEngine.admin])
        return (engine, run)
    }

    /// The simulator's couriers' routes as the engine plans them: per courier, its stops' (order, type).
    func routes(_ engine: TestEngine, drivers: Int) throws -> [[(order: UInt64, type: String)]] {
        try (500..<(500 + drivers)).map { id in
            let r = try engine.get("/v1/drivers/\(id)/route")
            #expect(r.status == 200, "driver \(id): \(r.text)")
            let stops = ((r.json as? [String: Any])?["stops"] as? [[String: Any]]) ?? []
            return stops.map { (($0["order"] as? NSNumber)?.uint64Value ?? 0, $0["type"] as? String ?? "") }
        }
    }

    @Test("stacked couriers accept offers onto their routes; orders carry ready_in_s, deadline_s and max_ride_s; the report has the food keys")
    func stackedOnline() throws {
        let drivers = 4
        let (engine, run) = try run(policy: "stacked", drivers: drivers, stacking: true)
        defer { engine.close() }
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        #expect(json["mode"] as? String == "online" && json["policy"] as? String == "stacked" && json["scenario"] as? String == "food")
        for key in ["pings_sent", "orders_created", "orders_assigned", "mean_pickup_eta_s", "latency_p50_ms", "orders", "delivered",
                    "unserved", "cancelled", "late", "mean_delivery_s", "p90_delivery_s", "mean_ride_s",
                    "courier_travel_s_per_delivery", "restaurant_wait_s_per_delivery", "stacked_share", "offers", "capacity_violations"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let created = try Self.number(json, "orders_created"), assigned = try Self.number(json, "orders_assigned")
        #expect(created >= 6, "\(run.stderr)")
        #expect(assigned >= 4 && assigned <= created)
        #expect(try Self.number(json, "orders_failed") == 0, "\(run.stderr)")
        #expect(try Self.number(json, "orders") == created)
        #expect(try Self.number(json, "unserved") == created - (try Self.number(json, "delivered")))
        #expect(try Self.number(json, "capacity_violations") == 0)

        // The engine holds the accepted orders on the couriers' routes: several on one courier, within a car's
        // capacity, each pickup before its drop-off.
        let planned = try routes(engine, drivers: drivers)
        var orders = Set<UInt64>()
        for stops in planned {
            // Orders on board show only their drop-off: they count from the start.
            var load = stops.filter { s in s.type == "dropoff" && !stops.contains { $0.order == s.order && $0.type == "pickup" } }.count
            for s in stops {
                load += s.type == "pickup" ? 1 : -1
                #expect((0...3).contains(load), "load \(load) on \(stops)")
            }
            let mine = Set(stops.map(\.order))
            for o in mine { #expect(stops.filter { $0.order == o }.map(\.type).last == "dropoff") }
            #expect(orders.isDisjoint(with: mine), "an order on two routes")
            orders.formUnion(mine)
        }
        #expect(planned.contains { Set($0.map(\.order)).count >= 2 }, "some courier carries a stack: \(planned)")
        // Each order was created with the food scenario's timing.
        let one = try #require(orders.first)
        let order = try #require(try engine.get("/v1/orders/\(one)").json as? [String: Any])
        #expect((order["deadline_s"] as? NSNumber)?.intValue == 2_700)
        #expect((order["max_ride_s"] as? NSNumber)?.intValue == 2_400)
        let ready = try #require((order["ready_in_s"] as? NSNumber)?.intValue)
        #expect((300...1_300).contains(ready), "preparation 5.6–20.8 min: \(ready) s")
        let stats = try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
        #expect((stats["stacked_offers"] as? NSNumber)?.intValue ?? 0 >= 1)
    }

    @Test("single couriers never hold more than one order, even when the engine offers stacked insertions")
    func singleOnline() throws {
        let drivers = 4
        let (engine, run) = try run(policy: "single", drivers: drivers, stacking: true)
        defer { engine.close() }
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        #expect(json["policy"] as? String == "single" && json["scenario"] as? String == "food")
        #expect(try Self.number(json, "orders_assigned") >= 2)
        #expect(try Self.number(json, "offers_declined") >= 1, "stacked offers are declined: \(run.stderr)")
        for stops in try routes(engine, drivers: drivers) {
            #expect(Set(stops.map(\.order)).count <= 1, "\(stops)")
        }
    }
}

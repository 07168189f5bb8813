import Foundation
import Testing

/// `hexfleet simulate --offline --scenario food` as a user runs it (the built executable, its JSON line parsed):
/// the report's keys and their consistency, repeatability per seed, stacked routes checked by the planner, and the
/// flag errors. Short runs: 40 minutes of orders at the small end of the lunch curve.
@Suite(.serialized) struct FoodSimulatorTests {
    static func food(_ policy: String, seed: Int, extra: [String] = []) -> [String] {
        ["--offline", "--scenario", "food", "--policy", policy, "--seed", "\(seed)", "--json",
         "--graph", SimulatorTests.monaco, "--graph-cache", SimulatorTests.graphCache,
         "--drivers", "25", "--duration", "2400", "--orders-per-minute", "2"] + extra
    }

    static let requiredKeys = ["delivered", "unserved", "mean_delivery_s", "p90_delivery_s", "late",
                               "courier_travel_s_per_delivery", "mean_ride_s", "orders", "policy", "seed"]

    static func number(_ json: [String: Any], _ key: String) throws -> Double {
        try #require((json[key] as? NSNumber)?.doubleValue, "missing or not a number: \(key)")
    }

    @Test("each policy prints one JSON object with the issue's keys, consistent with each other", arguments: ["single", "stacked"])
    func keysAndConsistency(policy: String) throws {
        let run = try SimulatorTests.simulate(Self.food(policy, seed: 3))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 1, "stdout: \(run.stdout)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        for key in Self.requiredKeys { #expect(json[key] != nil, "missing \(key)") }
        #expect(json["policy"] as? String == policy)
        #expect(json["scenario"] as? String == "food")
        let orders = try Self.number(json, "orders"), delivered = try Self.number(json, "delivered")
        let unserved = try Self.number(json, "unserved"), late = try Self.number(json, "late")
        // 40 minutes around a 2/min peak: dozens of orders, and a fleet of 25 delivers nearly all.
        #expect(orders > 30 && orders < 120, "orders \(orders)")
        #expect(delivered + unserved == orders)
        #expect(delivered >= 0.9 * orders, "delivered \(delivered) of \(orders)")
        #expect(late <= delivered)
        let mean = try Self.number(json, "mean_delivery_s"), p90 = try Self.number(json, "p90_delivery_s")
        let ride = try Self.number(json, "mean_ride_s"), travel = try Self.number(json, "courier_travel_s_per_delivery")
        // Preparation alone is 5.6–20.8 minutes, and a drop-off 0.4–3 km away takes a few minutes more.
        #expect(mean > 400 && mean < 3_600, "mean delivery \(mean)")
        #expect(p90 >= mean && p90 < 7_200)
        #expect(ride > 30 && ride < mean, "mean ride \(ride)")
        #expect(travel > 60 && travel < 3_600, "travel per delivery \(travel)")
        #expect(try Self.number(json, "capacity_violations") == 0)
    }

    @Test("the same seed gives the same line, byte for byte; another seed another line")
    func determinism() throws {
        let a = try SimulatorTests.simulate(Self.food("stacked", seed: 11))
        let b = try SimulatorTests.simulate(Self.food("stacked", seed: 11))
        let c = try SimulatorTests.simulate(Self.food("stacked", seed: 12))
        #expect(a.status == 0 && b.status == 0 && c.status == 0, "stderr: \(a.stderr)")
        #expect(!a.lastLine.isEmpty && a.lastLine == b.lastLine)
        #expect(a.lastLine != c.lastLine)
        let d = try SimulatorTests.simulate(Self.food("single", seed: 11))
        let e = try SimulatorTests.simulate(Self.food("single", seed: 11))
        #expect(d.status == 0 && d.lastLine == e.lastLine)
        // Both policies see the same orders.
        #expect(a.json?["orders"] as? Int == d.json?["orders"] as? Int)
    }

    @Test("stacked routes stack orders, and every committed route passes the planner's feasibility check")
    func stackedRoutesFeasible() throws {
        // A busier lunch on a smaller fleet, so couriers carry several orders.
        let run = try SimulatorTests.simulate(Self.food("stacked", seed: 5, extra: ["--drivers", "15", "--orders-per-minute", "3"]))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        let checks = try Self.number(json, "route_checks"), delivered = try Self.number(json, "delivered")
        #expect(checks >= delivered, "one check per accepted insertion: \(checks) for \(delivered) deliveries")
        #expect(try Self.number(json, "route_check_failures") == 0)
        #expect(try Self.number(json, "capacity_violations") == 0)
        #expect(try Self.number(json, "stacked_share") > 0.1)
    }

    @Test("--learn-courier-pace: the same line for a seed, other plans than the fleet-mean pace, every committed route feasible")
    func learnedPace() throws {
        let busy = ["--drivers", "15", "--orders-per-minute", "3"]
        let a = try SimulatorTests.simulate(Self.food("stacked", seed: 5, extra: busy + ["--learn-courier-pace"]))
        let b = try SimulatorTests.simulate(Self.food("stacked", seed: 5, extra: busy + ["--learn-courier-pace"]))
        let mean = try SimulatorTests.simulate(Self.food("stacked", seed: 5, extra: busy))
        #expect(a.status == 0 && b.status == 0 && mean.status == 0, "stderr: \(a.stderr)")
        #expect(!a.lastLine.isEmpty && a.lastLine == b.lastLine)
        #expect(a.lastLine != mean.lastLine, "learning pace changed no plan")
        let json = try #require(a.json, "last line: \(a.lastLine)")
        #expect(try Self.number(json, "route_checks") >= Self.number(json, "delivered"))
        #expect(try Self.number(json, "route_check_failures") == 0)
        #expect(try Self.number(json, "capacity_violations") == 0)
        #expect(a.json?["orders"] as? Int == mean.json?["orders"] as? Int)
    }

    @Test("a bad policy or scenario is a usage error naming the flag, with nothing on stdout")
    func flagErrors() throws {
        let base = ["--graph", SimulatorTests.monaco, "--graph-cache", SimulatorTests.graphCache]
        for (args, flag) in [(["--offline", "--scenario", "food", "--policy", "greedy"], "--policy"),
                             (["--offline", "--scenario", "food", "--policy", "batch"], "--policy"),
                             (["--offline", "--policy", "stacked"], "--policy stacked"),
                             (["--offline", "--scenario", "food", "--policy", "stacks"], "--policy"),
                             (["--offline", "--scenario", "pizza"], "--scenario"),
                             (["--scenario", "food", "--drain", "100000", "--udp", "127.0.0.1:9"], "--drain"),
                             (["--policy", "stacked", "--udp", "127.0.0.1:9"], "--policy stacked"),
                             (["--offline", "--scenario", "food", "--drivers", "0"], "--drivers"),
                             (["--offline", "--scenario", "food", "--policy", "single", "--learn-courier-pace"], "--learn-courier-pace"),
                             (["--offline", "--learn-courier-pace"], "--learn-courier-pace")] {
            let run = try SimulatorTests.simulate(base + args)
            #expect(run.status == 64, "\(args): status \(run.status)")
            #expect(run.stderr.contains(flag), "\(args): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(args): \(run.stdout)")
        }
    }
}

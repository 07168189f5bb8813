import Testing
import TestSupport
import Vocabulary
@testable import Dispatcher

@Suite("Route planner")
struct RoutePlannerTests {
    /// A random instance: `metric` closes the matrix under shortest paths (as road travel times are), otherwise
    /// it is arbitrary (asymmetric, some legs unreachable). Some couriers carry promised stops that are feasible
    /// by construction (generated from a schedule the courier can keep).
    static func randomInstance(_ rng: inout SeededRandom, couriers: ClosedRange<Int>, orders: ClosedRange<Int>,
                               locations: ClosedRange<Int>, metric: Bool, promise: Bool) -> PlanInstance {
        let n = Int.random(in: locations, using: &rng)
        var m = [Double](repeating: 0, count: n * n)
        for a in 0..<n {
            for b in 0..<n where a != b {
                m[a * n + b] = !metric && Double.random(in: 0..<1, using: &rng) < 0.05
                    ? .infinity : Double(Int.random(in: 30...900, using: &rng))
            }
        }
        if metric {
            for k in 0..<n { for a in 0..<n { for b in 0..<n where m[a * n + k] + m[k * n + b] < m[a * n + b] {
                m[a * n + b] = m[a * n + k] + m[k * n + b]
            } } }
        }
        let orderCount = Int.random(in: orders, using: &rng)
        var planOrders = [PlanOrder]()
        for k in 0..<orderCount {
            let pickup = Int.random(in: 0..<n, using: &rng), dropoff = Int.random(in: 0..<n, using: &rng)
            let ready = Double.random(in: 0..<1, using: &rng) < 0.6 ? Double(Int.random(in: 0...1200, using: &rng)) : 0
            let deadline = Double.random(in: 0..<1, using: &rng) < 0.6 ? ready + Double(Int.random(in: 300...3000, using: &rng)) : .infinity
            let ride = Double.random(in: 0..<1, using: &rng) < 0.5 ? Double(Int.random(in: 200...2000, using: &rng)) : .infinity
            let service = Double.random(in: 0..<1, using: &rng) < 0.5 ? Double(Int.random(in: 0...120, using: &rng)) : 0
            planOrders.append(PlanOrder(id: OrderID(UInt64(100 + k * 3)), pickup: pickup, dropoff: dropoff,
                                        readyAt: ready, deadline: deadline, maxRide: ride, service: service))
        }
        let courierCount = Int.random(in: couriers, using: &rng)
        var planCouriers = [PlanCourier]()
        var nextPromisable = 0
        for c in 0..<courierCount {
            var courier = PlanCourier(id: CourierID(UInt64(7 + c)), start: Int.random(in: 0..<n, using: &rng),
                                      availableAt: Double(Int.random(in: 0...600, using: &rng)),
                                      capacity: Int.random(in: 1...3, using: &rng))
            if promise, nextPromisable < orderCount, Double.random(in: 0..<1, using: &rng) < 0.5 {
                // One order promised: on board (drop-off only) or both stops; its limits loosened so it is keepable.
                let o = nextPromisable
                nextPromisable += 1
                planOrders[o].deadline = .infinity
                planOrders[o].maxRide = .infinity
                if m[courier.start * n + planOrders[o].pickup].isInfinite || m[planOrders[o].pickup * n + planOrders[o].dropoff].isInfinite
                    || m[courier.start * n + planOrders[o].dropoff].isInfinite {
                    planCouriers.append(courier); continue
                }
                if Bool.random(using: &rng) {
                    courier.stops = [PlanStop(order: planOrders[o].id, kind: .dropoff)]
                } else {
                    courier.stops = [PlanStop(order: planOrders[o].id, kind: .pickup), PlanStop(order: planOrders[o].id, kind: .dropoff)]
                }
            }
            planCouriers.append(courier)
        }
        return PlanInstance(locationCount: n, matrix: m, couriers: planCouriers, orders: planOrders)
    }

    @Test("every plan on random instances is feasible, keeps promises, and reports its cost and times exactly")
    func randomPlansAreFeasible() throws {
        print("RoutePlannerTests.randomPlansAreFeasible: seeds 0..<150 (a failure names its seed)")
        for seed in UInt64(0)..<150 {
            var rng = SeededRandom(seed: seed &* 6_364_136_223_846_793_005 &+ 1)
            let instance = Self.randomInstance(&rng, couriers: 1...6, orders: 0...25, locations: 2...30,
                                               metric: seed % 3 != 0, promise: true)
            let plan = try RoutePlanner.plan(instance, options: RoutePlannerOptions(timeLimitMs: 10_000, maxIterations: 300, seed: seed))
            let problems = PlanChecker.violations(plan, instance)
            #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(5))")
        }
    }

    /// Tiny instances (≤ 2 couriers, ≤ 4 orders): the plan equals the brute-force optimum. On metric matrices the
    /// heuristic search alone (construction and ruin-and-recreate, as larger instances get) must reach it too; on
    /// arbitrary ones the planner's exhaustive step answers (before it and the unreachable-leg fix, 11 of these 600
    /// missed: an order whose direct leg is unreachable was never inserted, though a route through another order's
    /// stop reaches its drop-off).
    @Test("on tiny instances the plan equals the brute-force optimum (served, then travel)",
          arguments: [(metric: true, seeds: 300), (metric: false, seeds: 600)])
    func tinyInstancesAreOptimal(_ matrix: (metric: Bool, seeds: Int)) throws {
        var compared = 0
        for seed in UInt64(0)..<UInt64(matrix.seeds) {
            var rng = SeededRandom(seed: seed &* 2_862_933_555_777_941_757 &+ 3)
            let instance = Self.randomInstance(&rng, couriers: 1...2, orders: 1...4, locations: 2...8,
                                               metric: matrix.metric, promise: seed % 2 == 0)
            guard let want = BruteForceRoutePlanner.optimum(instance) else { continue }
            let options = RoutePlannerOptions(timeLimitMs: 10_000, maxIterations: 2_000, seed: seed)
            var plans = [("planner", try RoutePlanner.plan(instance, options: options))]
            if matrix.metric {
                var search = try PlannerSearch(instance, travel: MatrixTravelTimes(locationCount: instance.locationCount, values: instance.matrix), seed: seed)
                search.construct()
                search.improve(options: options, clock: ContinuousClock(), started: ContinuousClock().now)
                plans.append(("heuristic", search.bestPlan()))
            }
            for (name, plan) in plans {
                #expect(PlanChecker.violations(plan, instance).isEmpty, "seed \(seed), \(name)")
                let served = instance.orders.count - plan.unassigned.count
                #expect(served == want.served && plan.cost == want.cost,
                        "seed \(seed): \(name) served \(served) at \(plan.cost), optimum \(want.served) at \(want.cost)")
            }
            compared += 1
        }
        #expect(compared > matrix.seeds * 2 / 3)
    }

    @Test("the heuristic alone finds an order reachable only through another order's stop")
    func insertionPassesAnotherStopWhenTheDirectLegIsUnreachable() throws {
        // Locations 0 (courier), 1 (A's pickup), 2 (B's pickup), 3 (both drop-offs); 1 → 3 is unreachable, 1 → 2 → 3 is not.
        let x = Double.infinity
        let m: [Double] = [0, 10, 50, 50,
                           10, 0, 10, x,
                           50, 10, 0, 10,
                           50, x, 10, 0]
        let orders = [PlanOrder(id: OrderID(1), pickup: 1, dropoff: 3, readyAt: 0, deadline: .infinity, maxRide: .infinity, service: 0),
                      PlanOrder(id: OrderID(2), pickup: 2, dropoff: 3, readyAt: 0, deadline: .infinity, maxRide: .infinity, service: 0)]
        let instance = PlanInstance(locationCount: 4, matrix: m,
                                    couriers: [PlanCourier(id: CourierID(9), start: 0, availableAt: 0, capacity: 2)], orders: orders)
        var search = try PlannerSearch(instance, travel: MatrixTravelTimes(locationCount: 4, values: m), seed: 1)
        search.construct()
        let plan = search.bestPlan()
        #expect(plan.unassigned.isEmpty && plan.cost == 30, "\(plan)")
        let planned = try RoutePlanner.plan(instance)   // solved exhaustively (tiny): the same optimum
        #expect(planned.unassigned.isEmpty && planned.cost == 30, "\(planned)")
    }

    @Test("the same seed and iteration count give the same plan")
    func deterministicForASeed() throws {
        var rng = SeededRandom(seed: 42)
        let instance = Self.randomInstance(&rng, couriers: 4...4, orders: 20...20, locations: 30...30, metric: true, promise: true)
        let options = RoutePlannerOptions(timeLimitMs: 60_000, maxIterations: 500, seed: 9)
        #expect(try RoutePlanner.plan(instance, options: options) == RoutePlanner.plan(instance, options: options))
    }

    @Test("promised stops that cannot be kept are an error naming the courier's stops")
    func infeasiblePromise() {
        let instance = PlanInstance(
            locationCount: 2, matrix: [0, 500, 500, 0],
            couriers: [PlanCourier(id: CourierID(1), start: 0, availableAt: 0, capacity: 2,
                                   stops: [PlanStop(order: OrderID(7), kind: .dropoff)])],
            orders: [PlanOrder(id: OrderID(7), pickup: 0, dropoff: 1, deadline: 400)])
        #expect(throws: PlanInstanceError.self) { try RoutePlanner.plan(instance) }
        do { _ = try RoutePlanner.plan(instance) } catch { #expect(error.path == "couriers[0].stops") }
    }

    @Test("an order no courier can reach in time is unassigned, the rest are served")
    func unservableOrderIsUnassigned() throws {
        let instance = PlanInstance(
            locationCount: 3, matrix: [0, 100, 200, 100, 0, 100, 200, 100, 0],
            couriers: [PlanCourier(id: CourierID(1), start: 0, availableAt: 0, capacity: 1)],
            orders: [PlanOrder(id: OrderID(1), pickup: 1, dropoff: 2, deadline: 150),
                     PlanOrder(id: OrderID(2), pickup: 0, dropoff: 1)])
        let plan = try RoutePlanner.plan(instance)
        #expect(plan.unassigned == [OrderID(1)])
        #expect(plan.cost == 100)
        #expect(PlanChecker.violations(plan, instance).isEmpty)
    }
}

@Suite("Stacking round")
struct StackingRoundTests {
    @Test("proposals go to distinct couriers and every proposed insertion keeps the courier's route feasible",
          arguments: [0, 0.8])
    func proposalsAreFeasible(delayWeight: Double) throws {
        print("StackingRoundTests.proposalsAreFeasible(delayWeight: \(delayWeight)): seeds 0..<60 (a failure names its seed)")
        for seed in UInt64(0)..<60 {
            var rng = SeededRandom(seed: seed &+ 1000)
            let instance = RoutePlannerTests.randomInstance(&rng, couriers: 1...8, orders: 1...20, locations: 2...25,
                                                           metric: true, promise: true)
            let travel = MatrixTravelTimes(locationCount: instance.locationCount, values: instance.matrix)
            let proposals = try StackingRound.run(instance, travel: travel, selection: travel, candidatesPerOrder: 4,
                                                  delayWeight: delayWeight)
            #expect(Set(proposals.map(\.courier)).count == proposals.count, "seed \(seed)")
            #expect(Set(proposals.map(\.order)).count == proposals.count, "seed \(seed)")
            // Apply them as promises: the planner refuses promised stops that cannot be kept.
            var applied = instance
            for p in proposals {
                guard let c = applied.couriers.firstIndex(where: { $0.id == p.courier }) else { continue }
                var stops = applied.couriers[c].stops
                stops.insert(PlanStop(order: p.order, kind: .dropoff), at: p.dropoffAt)
                stops.insert(PlanStop(order: p.order, kind: .pickup), at: p.pickupAt)
                applied.couriers[c].stops = stops
            }
            #expect(throws: Never.self, "seed \(seed)") {
                _ = try RoutePlanner.plan(applied, options: RoutePlannerOptions(timeLimitMs: 1_000, maxIterations: 1))
            }
        }
    }

    /// Courier 1 (at 0) has promised order 1 from the restaurant (1) to its customer (2); order 2 leaves the same
    /// restaurant for a customer (3) the other way; courier 2 waits at 4, 200 s from the restaurant. Stacking onto
    /// courier 1 adds 400 s of travel and delivers one of the two orders 400–460 s late; courier 2 adds 500 s and
    /// delivers order 2 200 s after its ideal drop-off.
    static let sameRestaurantOppositeWays = PlanInstance(
        locationCount: 5,
        matrix: [0, 60, 360, 360, 260,
                 60, 0, 300, 300, 200,
                 360, 300, 0, 400, 500,
                 360, 300, 400, 0, 500,
                 260, 200, 500, 500, 0],
        couriers: [PlanCourier(id: CourierID(1), start: 0, availableAt: 0, capacity: 3,
                               stops: [PlanStop(order: OrderID(1), kind: .pickup), PlanStop(order: OrderID(1), kind: .dropoff)]),
                   PlanCourier(id: CourierID(2), start: 4, availableAt: 0, capacity: 3)],
        orders: [PlanOrder(id: OrderID(1), pickup: 1, dropoff: 2), PlanOrder(id: OrderID(2), pickup: 1, dropoff: 3)])

    @Test("by travel alone the round stacks the order onto the busy courier; priced with delay it sends the idle one")
    func delayWeightTradesTravelForDelivery() throws {
        let instance = Self.sameRestaurantOppositeWays
        let travel = MatrixTravelTimes(locationCount: instance.locationCount, values: instance.matrix)
        let byTravel = try StackingRound.run(instance, travel: travel)
        #expect(byTravel.map(\.courier) == [CourierID(1)])
        #expect(byTravel.first?.addedTravelSeconds == 400)
        // 400 + 0.8 × 460 = 768 against 500 + 0.8 × 200 = 660.
        let byDelay = try StackingRound.run(instance, travel: travel, selection: travel, delayWeight: 0.8)
        #expect(byDelay.map(\.courier) == [CourierID(2)])
        #expect(byDelay.first?.addedTravelSeconds == 500, "the proposal reports the travel it adds, not its price")
        #expect(byDelay.first.map { ($0.pickupAt, $0.dropoffAt) }.map { $0 == (0, 0) } == true)
        // A small weight still stacks: 400 + 0.1 × 460 = 446 against 500 + 0.1 × 200 = 520.
        let lightly = try StackingRound.run(instance, travel: travel, selection: travel, delayWeight: 0.1)
        #expect(lightly.map(\.courier) == [CourierID(1)])
    }
}

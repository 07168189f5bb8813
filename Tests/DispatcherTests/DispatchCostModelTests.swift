import Testing
@testable import Dispatcher
import Vocabulary

/// Each term of `DispatchCostModel` decides a crafted round on its own: two candidates that differ only in that
/// term's input (and in pickup ETA, which the term must outweigh), so the round picks one with the term at its
/// default weight and the other with the weight at zero. The ETAs come from a table, so nothing else moves.
@Suite("Dispatch cost model terms")
struct DispatchCostModelTests {
    typealias R = DispatchRoundTests
    static let nowMs: Int64 = 10_000_000
    static let pickup = R.at(east: 0)
    /// Courier positions: `near` is 100 s from the pickup, `far` 150 s (both well inside the search radius).
    static let near = R.at(east: 300), far = R.at(east: 500)
    static let eta = TableETA(seconds: [near: [pickup: 100], far: [pickup: 150]])

    static func order(_ id: UInt64 = 1, waitedSeconds: Int64 = 0, at point: LatLng = pickup) -> WaitingOrder {
        WaitingOrder(id: OrderID(id), pickup: point, createdAtMs: nowMs - waitedSeconds * 1_000)
    }

    /// The courier the round offers order 1 to.
    static func winner(_ model: DispatchCostModel, _ policy: DispatchPolicy, near nearCourier: CourierSnapshot,
                       far farCourier: CourierSnapshot) throws -> CourierID? {
        var config = DispatchConfig()
        config.costModel = model
        let plan = try DispatchRound(orders: [order()], couriers: CourierSnapshotIndex([nearCourier, farCourier]), eta: eta,
                                     policy: policy, config: config, nowMs: nowMs).run()
        return plan.assignments.first { $0.order == OrderID(1) }?.courier
    }

    static let nearID = CourierID(1), farID = CourierID(2)

    @Test("idle time: a courier idle for 1,000 s wins over one 50 s nearer that just got free; with no idle weight the nearer wins",
          arguments: DispatchPolicy.allCases)
    func idleTerm(policy: DispatchPolicy) throws {
        let justFree = CourierSnapshot(id: Self.nearID, position: Self.near, idleSinceMs: Self.nowMs)
        let longIdle = CourierSnapshot(id: Self.farID, position: Self.far, idleSinceMs: Self.nowMs - 1_000_000)
        var model = DispatchCostModel()
        // Default weight 0.1/s: 150 − 100 = 50 beats 100 − 0.
        #expect(try Self.winner(model, policy, near: justFree, far: longIdle) == Self.farID)
        model.courierIdleWeight = 0
        #expect(try Self.winner(model, policy, near: justFree, far: longIdle) == Self.nearID)
        // The cap bounds the credit: 100 s of idle credit at most is worth 10 s, not enough to outweigh 50 s of ETA.
        model.courierIdleWeight = 0.1
        model.maxIdleCreditSeconds = 100
        #expect(try Self.winner(model, policy, near: justFree, far: longIdle) == Self.nearID)
    }

    @Test("fairness: a courier with two recent orders loses to one 50 s farther with none; with no fairness weight it wins",
          arguments: DispatchPolicy.allCases)
    func fairnessTerm(policy: DispatchPolicy) throws {
        let busyBefore = CourierSnapshot(id: Self.nearID, position: Self.near, idleSinceMs: Self.nowMs, recentAssignments: 2)
        let fresh = CourierSnapshot(id: Self.farID, position: Self.far, idleSinceMs: Self.nowMs, recentAssignments: 0)
        var model = DispatchCostModel()
        // Default 30 s per order: 100 + 60 = 160 loses to 150.
        #expect(try Self.winner(model, policy, near: busyBefore, far: fresh) == Self.farID)
        model.fairnessSecondsPerAssignment = 0
        #expect(try Self.winner(model, policy, near: busyBefore, far: fresh) == Self.nearID)
    }

    @Test("rating: at 20 s a star, a 4-star courier 10 s farther beats a 2-star one; with the term off (the default) the nearer wins",
          arguments: DispatchPolicy.allCases)
    func ratingTerm(policy: DispatchPolicy) throws {
        let eta = TableETA(seconds: [Self.near: [Self.pickup: 100], Self.far: [Self.pickup: 110]])
        let low = CourierSnapshot(id: Self.nearID, position: Self.near, idleSinceMs: Self.nowMs, rating: 2)
        let high = CourierSnapshot(id: Self.farID, position: Self.far, idleSinceMs: Self.nowMs, rating: 4)
        func winner(_ model: DispatchCostModel) throws -> CourierID? {
            var config = DispatchConfig()
            config.costModel = model
            return try DispatchRound(orders: [Self.order()], couriers: CourierSnapshotIndex([low, high]), eta: eta,
                                     policy: policy, config: config, nowMs: Self.nowMs).run().assignments.first?.courier
        }
        var model = DispatchCostModel()
        #expect(model.ratingSecondsPerStar == 0, "the term is off unless ratings are wired in")
        #expect(try winner(model) == Self.nearID)
        model.ratingSecondsPerStar = 20   // what the engine sets (OrdersService+Open)
        // 100 + 20 = 120 loses to 110 − 20 = 90.
        #expect(try winner(model) == Self.farID)
        // Ratings are clamped to 1…5: a 50-star rating counts as 5, not as a 940 s credit.
        var liar = high
        liar.rating = 50
        var config = DispatchConfig()
        config.costModel = model
        let clamped = try DispatchRound(orders: [Self.order()], couriers: CourierSnapshotIndex([low, liar]), eta: eta,
                                        policy: policy, config: config, nowMs: Self.nowMs).run()
        let cost = try #require(clamped.assignments.first?.cost)
        #expect(abs(cost - (110 - 40)) < 1e-9, "cost \(cost), bits \(String(cost.bitPattern, radix: 16))")
    }

    @Test("order wait: with one courier for two orders, the one waiting 600 s wins over a fresher one 50 s nearer; with no wait weight the nearer wins")
    func waitTerm() throws {
        // The wait term never changes which courier an order prefers (it is the same for all of an order's
        // candidates); it decides which order gets a scarce courier, so the round is one courier and two orders.
        // Greedy serves the older order first whatever the costs, so this is the batch-optimal policy's choice.
        let fresh = Self.order(1, waitedSeconds: 0, at: R.at(east: 0))
        let old = Self.order(2, waitedSeconds: 600, at: R.at(east: 40))
        let courier = CourierSnapshot(id: CourierID(7), position: Self.near, idleSinceMs: Self.nowMs)
        let eta = TableETA(seconds: [Self.near: [fresh.pickup: 100, old.pickup: 150]])
        func served(_ model: DispatchCostModel) throws -> [OrderID] {
            var config = DispatchConfig()
            config.costModel = model
            return try DispatchRound(orders: [fresh, old], couriers: CourierSnapshotIndex([courier]), eta: eta,
                                     policy: .batchOptimal, config: config, nowMs: Self.nowMs).run().assignments.map(\.order)
        }
        var model = DispatchCostModel()
        // Default 0.5 per waited second: 150 − 300 = −150 beats 100 − 0.
        #expect(try served(model) == [OrderID(2)])
        model.orderWaitWeight = 0
        #expect(try served(model) == [OrderID(1)])
        // The cap bounds the credit: 60 s at most is worth 30 s, not enough to outweigh 50 s of ETA.
        model.orderWaitWeight = 0.5
        model.maxWaitCreditSeconds = 60
        #expect(try served(model) == [OrderID(1)])
    }
}

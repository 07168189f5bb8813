import Testing
@testable import Dispatcher
import Vocabulary

/// The loop's cycle end to end: queue → round → offers → answers → queue → next round.
@Suite("Re-dispatch")
struct RedispatchTests {
    static func point(_ eastMeters: Double) -> LatLng {
        LatLng(degrees: 43.7384, 7.4246 + eastMeters / 80_500)
    }

    /// What the Engine does with a plan: offer each pair, taking the order out of the queue.
    static func offer(_ plan: DispatchPlan, _ queue: inout FIFOWaitingOrders, _ book: OfferBook, nowMs: Int64) throws {
        for a in plan.assignments {
            let removed = queue.remove(a.order)
            let order = try #require(removed)
            try book.offer(order, to: a.courier, nowMs: nowMs)
        }
    }

    static func apply(_ events: [OfferEvent], _ queue: inout FIFOWaitingOrders) {
        for case .returnedToQueue(let o) in events { queue.requeue(o) }
    }

    @Test("a declined order goes to the next-best courier, and a timed-out one too, never back to the same courier",
          arguments: DispatchPolicy.allCases)
    func declineThenTimeout(policy: DispatchPolicy) throws {
        let couriers = CourierSnapshotIndex([
            CourierSnapshot(id: CourierID(1), position: Self.point(100)),
            CourierSnapshot(id: CourierID(2), position: Self.point(400)),
            CourierSnapshot(id: CourierID(3), position: Self.point(900)),
        ])
        var queue = FIFOWaitingOrders([WaitingOrder(id: OrderID(42), pickup: Self.point(0), createdAtMs: 0)])
        let book = try OfferBook()
        func round(_ now: Int64) throws -> DispatchPlan {
            try DispatchRound(orders: queue.waiting, couriers: couriers, eta: StraightLineETAProvider(), policy: policy,
                              nowMs: now, excludedPairs: book.excludedPairs, busyCouriers: book.busyCouriers).run()
        }
        var plan = try round(1_000)
        #expect(plan.assignments.map(\.courier) == [CourierID(1)])
        try Self.offer(plan, &queue, book, nowMs: 1_000)
        // While the offer is open, a new round has nothing to do for this order.
        #expect(try round(2_000).assignments.isEmpty)

        try book.decline(order: OrderID(42), courier: CourierID(1), nowMs: 3_000)
        Self.apply(book.drainEvents(), &queue)
        plan = try round(3_000)
        #expect(plan.assignments.map(\.courier) == [CourierID(2)])
        try Self.offer(plan, &queue, book, nowMs: 3_000)

        book.expire(nowMs: 18_000)   // courier 2 never answered
        Self.apply(book.drainEvents(), &queue)
        plan = try round(18_000)
        #expect(plan.assignments.map(\.courier) == [CourierID(3)])
        try Self.offer(plan, &queue, book, nowMs: 18_000)
        try book.accept(order: OrderID(42), courier: CourierID(3), nowMs: 20_000)
        #expect(book.assignedOrders[OrderID(42)] == CourierID(3))
        #expect(queue.waiting.isEmpty)

        // Everyone else declined or let it lapse: a new copy of the order finds no courier left.
        let rerun = try DispatchRound(orders: [WaitingOrder(id: OrderID(42), pickup: Self.point(0), createdAtMs: 0)],
                                      couriers: couriers, eta: StraightLineETAProvider(), policy: policy, nowMs: 21_000,
                                      excludedPairs: book.excludedPairs, busyCouriers: book.busyCouriers).run()
        #expect(rerun.assignments.isEmpty && rerun.unassigned == [OrderID(42)])
    }
}

import Foundation
import Synchronization
import Testing
@testable import Storage
import Vocabulary

@Suite("Order state machine in the store")
struct OrderTransitionTests {
    /// The shortest path of requests from a fresh quoted order to `status`.
    static func path(to status: OrderStatus) -> [OrderStatus] {
        switch status {
        case .created: return []            // special: created without a quote
        case .quoted: return []
        case .dispatched: return [.dispatched]
        case .accepted: return [.dispatched, .accepted]
        case .pickedUp: return [.dispatched, .accepted, .pickedUp]
        case .delivered: return [.dispatched, .accepted, .pickedUp, .delivered]
        case .cancelled: return [.cancelled]
        case .failed: return [.failed]
        }
    }

    static func reach(_ status: OrderStatus, in store: SQLiteStore) throws -> OrderID {
        let order = try store.createOrderAndWait(sampleOrder(quote: status == .created ? nil : "q"), actor: .system).order
        for step in path(to: status) {
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(
                orderID: order.id, to: step, actor: .system, assignCourier: step == .dispatched ? CourierID(3) : nil))
        }
        #expect(try store.order(order.id)?.status == status)
        return order.id
    }

    @Test("every (from, to) pair: allowed edges commit with one event, every other pair is refused with invalid_transition")
    func everyPair() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        var refused = 0, allowed = 0
        for from in OrderStatus.allCases {
            for to in OrderStatus.allCases {
                let id = try Self.reach(from, in: store)
                let before = try store.events(of: id).count
                let request = OrderTransitionRequest(orderID: id, to: to, actor: ActorRef(.admin, 1),
                                                     assignCourier: to == .dispatched ? CourierID(4) : nil)
                if from.canTransition(to: to) {
                    let after = try store.transitionOrderAndWait(request)
                    #expect(after.status == to)
                    let events = try store.events(of: id)
                    #expect(events.count == before + 1)
                    #expect(events.last?.from == from && events.last?.to == to && events.last?.actor == ActorRef(.admin, 1))
                    allowed += 1
                } else {
                    expectStorageError(.invalidTransition, "\(from) → \(to)") { try store.transitionOrderAndWait(request) }
                    #expect(try store.order(id)?.status == from)
                    #expect(try store.events(of: id).count == before)
                    refused += 1
                }
            }
        }
        #expect(allowed == OrderStatus.allCases.reduce(0) { $0 + $1.successors.count })
        #expect(refused == 64 - allowed)
    }

    @Test("allowedFrom, requireCustomer and requireCourier are checked against the committed row")
    func restrictions() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let id = try Self.reach(.dispatched, in: store)
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, to: .cancelled, actor: customerActor,
                                                                    allowedFrom: [.created, .quoted]))
        }
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, to: .cancelled, actor: customerActor,
                                                                    requireCustomer: CustomerID(8)))
        }
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, to: .accepted, actor: ActorRef(.courier, 5),
                                                                    requireCourier: CourierID(5)))
        }
        let accepted = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: id, to: .accepted, actor: ActorRef(.courier, 3), requireCourier: CourierID(3)))
        #expect(accepted.status == .accepted)
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: OrderID(999), to: .cancelled, actor: .system))
        }
    }

    @Test("a decline sends a dispatched order back to quoted and clears its courier")
    func decline() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let id = try Self.reach(.dispatched, in: store)
        let back = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, to: .quoted,
                                                                           actor: ActorRef(.courier, 3), reason: "declined"))
        #expect(back.courierID == nil)
        #expect(try store.order(id)?.courierID == nil)
        #expect(try store.events(of: id).last?.reason == "declined")
    }
}

@Suite("Idempotency keys")
struct IdempotencyTests {
    @Test("same key and body answers the same order without writing; another body is idempotency_conflict; keys are per customer")
    func keys() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let key = IdempotencyRequest(key: "abc", fingerprint: "body-1")
        let first = try store.createOrderAndWait(sampleOrder(customer: 1), idempotency: key, actor: .system)
        #expect(!first.replayed)
        let again = try store.createOrderAndWait(sampleOrder(customer: 1), idempotency: key, actor: .system)
        #expect(again.replayed)
        #expect(again.order == first.order)
        expectStorageError(.idempotencyConflict) {
            try store.createOrderAndWait(sampleOrder(customer: 1),
                                         idempotency: IdempotencyRequest(key: "abc", fingerprint: "body-2"), actor: .system)
        }
        let other = try store.createOrderAndWait(sampleOrder(customer: 2), idempotency: key, actor: .system)
        #expect(!other.replayed && other.order.id != first.order.id)
        #expect(try store.orders(OrderQuery()).count == 2)
        #expect(try store.idempotentOrder(customer: CustomerID(1), key: "abc")?.order.id == first.order.id)
    }

    @Test("pruning forgets keys older than the window: the same key then creates a new order")
    func prune() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let clock = Atomic<Int64>(1_000_000)
        let store = try tmp.open(nowMs: { clock.load(ordering: .relaxed) })
        defer { store.close() }
        let key = IdempotencyRequest(key: "k", fingerprint: "f")
        let first = try store.createOrderAndWait(sampleOrder(), idempotency: key, actor: .system)
        clock.store(2_000_000, ordering: .relaxed)
        _ = try store.createOrderAndWait(sampleOrder(), idempotency: IdempotencyRequest(key: "k2", fingerprint: "f"), actor: .system)
        #expect(try SQLiteStore.wait { store.pruneIdempotencyKeys(createdBeforeMs: 1_500_000, completion: $0) } == 1)
        #expect(try store.idempotentOrder(customer: CustomerID(7), key: "k") == nil)
        #expect(try store.idempotentOrder(customer: CustomerID(7), key: "k2") != nil)
        let again = try store.createOrderAndWait(sampleOrder(), idempotency: key, actor: .system)
        #expect(!again.replayed && again.order.id != first.order.id)
        #expect(try store.order(first.order.id) != nil)
    }

    @Test("concurrent duplicates with one key in one batch create exactly one order")
    func concurrentDuplicates() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<20 {
            store.createOrder(sampleOrder(), idempotency: IdempotencyRequest(key: "same", fingerprint: "f"),
                              actor: .system) { _ in done.signal() }
        }
        for _ in 0..<20 { done.wait() }
        #expect(try store.orders(OrderQuery()).count == 1)
    }
}

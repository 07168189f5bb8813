import Foundation
import Synchronization
import Testing
@testable import Storage
import Vocabulary

@Suite("Order transitions in the store: a compare-and-set on the status")
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

    /// A new order of customer 7 moved to `status` (courier 3 from `dispatched` on), each step naming the status
    /// the order is in.
    static func reach(_ status: OrderStatus, in store: any Store) throws -> OrderID {
        let order = try store.createOrderAndWait(sampleOrder(quote: status == .created ? nil : "q"), actor: .system).order
        var current = order.status
        for step in path(to: status) {
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(
                orderID: order.id, from: [current], to: step, actor: .system,
                assignCourier: step == .dispatched ? CourierID(3) : nil))
            current = step
        }
        #expect(try store.order(order.id)?.status == status)
        return order.id
    }

    @Test("from every status: a request naming it commits with one event; one naming any other set is refused with invalid_transition and writes nothing; the store judges no graph", arguments: StoreKind.testable)
    func compareAndSet(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let admin = ActorRef(.admin, 1)
        for current in OrderStatus.allCases {
            let id = try Self.reach(current, in: store)
            let before = try store.events(of: id).count
            // A target the schema takes from every status (no courier needed), graph edge or not.
            let to: OrderStatus = current == .cancelled ? .failed : .cancelled
            for others in [Set(OrderStatus.allCases).subtracting([current]), []] {
                #expect(throws: StorageError(.invalidTransition,
                                             "order \(id) cannot go from \(current.rawValue) to \(to.rawValue)")) {
                    try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: others, to: to, actor: admin))
                }
                #expect(try store.order(id)?.status == current)
                #expect(try store.events(of: id).count == before)
            }
            let after = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [current], to: to,
                                                                                actor: admin, reason: "test"))
            #expect(after.status == to)
            let events = try store.events(of: id)
            #expect(events.count == before + 1)
            #expect(events.last?.from == current && events.last?.to == to && events.last?.actor == admin)
            #expect(events.last?.reason == "test")
        }
    }

    @Test("racing requests from one status, in one batch or one by one: exactly one commits, the others are invalid_transition", arguments: StoreKind.testable, [true, false])
    func racingRequests(kind: StoreKind, groupCommit: Bool) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open(groupCommit: groupCommit)
        defer { store.close() }
        let id = try Self.reach(.dispatched, in: store)
        let before = try store.events(of: id).count
        let outcomes = Mutex<[Result<TransitionOutcome, StorageError>]>([])
        let done = DispatchSemaphore(value: 0)
        let n = 20
        for i in 0..<n {
            // Even: the courier accepts; odd: the offer times out back to quoted. Both expect `dispatched`.
            let request = i % 2 == 0
                ? OrderTransitionRequest(orderID: id, from: [.dispatched], to: .accepted, actor: ActorRef(.courier, 3),
                                         requireCourier: CourierID(3))
                : OrderTransitionRequest(orderID: id, from: [.dispatched], to: .quoted, actor: .system, reason: "offer_timeout")
            store.transitionOrder(request) { r in
                outcomes.withLock { $0.append(r) }
                done.signal()
            }
        }
        for _ in 0..<n { done.wait() }
        let results = outcomes.withLock { $0 }
        let winners = results.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        #expect(results.allSatisfy { r in
            if case .failure(let e) = r { return e.code == .invalidTransition }
            return true
        })
        let winner = try #require(winners.first)
        #expect(winner.from == .dispatched)
        #expect(try store.order(id)?.status == winner.order.status)
        #expect(try store.events(of: id).count == before + 1)
    }

    @Test("from, requireCustomer and requireCourier are checked against the committed row", arguments: StoreKind.testable)
    func restrictions(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let id = try Self.reach(.dispatched, in: store)
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.created, .quoted], to: .cancelled,
                                                                    actor: customerActor))
        }
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.dispatched], to: .cancelled,
                                                                    actor: customerActor, requireCustomer: CustomerID(8)))
        }
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.dispatched], to: .accepted,
                                                                    actor: ActorRef(.courier, 5), requireCourier: CourierID(5)))
        }
        let accepted = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: id, from: [.dispatched], to: .accepted, actor: ActorRef(.courier, 3), requireCourier: CourierID(3)))
        #expect(accepted.status == .accepted)
        #expect(throws: StorageError.self) {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: OrderID(999), from: [.quoted], to: .cancelled,
                                                                    actor: .system))
        }
    }

    @Test("a decline sends a dispatched order back to quoted and clears its courier", arguments: StoreKind.testable)
    func decline(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let id = try Self.reach(.dispatched, in: store)
        let back = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.dispatched], to: .quoted,
                                                                           actor: ActorRef(.courier, 3), reason: "declined"))
        #expect(back.courierID == nil)
        #expect(try store.order(id)?.courierID == nil)
        #expect(try store.events(of: id).last?.reason == "declined")
    }
}

@Suite("Idempotency keys")
struct IdempotencyTests {
    @Test("same key and body answers the same order without writing; another body is idempotency_conflict; keys are per customer", arguments: StoreKind.testable)
    func keys(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
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

    @Test("pruning forgets keys older than the window: the same key then creates a new order", arguments: StoreKind.testable)
    func prune(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
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

    @Test("concurrent duplicates with one key in one batch create exactly one order", arguments: StoreKind.testable)
    func concurrentDuplicates(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
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

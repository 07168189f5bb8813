import Foundation
import Storage
import Synchronization
import Testing
@testable import Marketplace
import Vocabulary

/// A sink that keeps what it is given.
final class RecordingSink: NotificationSink {
    let name = "recording"
    let got = Mutex<[OutboundNotification]>([])
    func deliver(_ notification: OutboundNotification) { got.withLock { $0.append(notification) } }
    var events: [String] { got.withLock { $0.map(\.event) } }
}

/// A store, pricer, notifier and order book over a temp SQLite file.
struct Market {
    let dir: TempDir
    let clock = TestClock()
    let store: SQLiteStore
    let pricer: Pricer
    let sink = RecordingSink()
    let notifier: Notifier
    let book: OrderBook

    init() throws {
        dir = try TempDir()
        store = try dir.openStore(clock: clock)
        pricer = Pricer(config: .defaults, routes: GreatCircleRoutes(), surge: nil, keyer: nil, nowMs: clock.closure)
        notifier = Notifier(sinks: [sink])
        book = OrderBook(store: store, pricer: pricer, notifier: notifier)
    }

    func close() { store.close(); dir.remove() }

    func quote(customer: UInt64 = 7) throws -> Quote {
        try pricer.quote(customer: CustomerID(customer), vehicle: "car", pickup: casino, dropoff: port)
    }

    func order(customer: UInt64 = 7, key: String? = nil) throws -> OrderRecord {
        let q = try quote(customer: customer)
        return try waitFor { book.create(OrderRequest(customerID: CustomerID(customer), quoteID: q.id), idempotencyKey: key, completion: $0) }.order
    }
}

@Suite("Order book")
struct OrderBookTests {
    let customer = ActorRef(.customer, 7)
    let courier = ActorRef(.courier, 3)

    @Test("the happy path created → quoted → dispatched → accepted → picked_up → delivered is evented and notified")
    func happyPath() throws {
        let m = try Market()
        defer { m.close() }
        let o = try m.order()
        #expect(o.status == .quoted && o.quoteID != nil && o.priceCents > 0)
        _ = try waitFor { m.book.dispatch(o.id, to: CourierID(3), completion: $0) }
        _ = try waitFor { m.book.accept(o.id, by: courier, completion: $0) }
        _ = try waitFor { m.book.pickUp(o.id, by: courier, completion: $0) }
        let done = try waitFor { m.book.deliver(o.id, by: courier, completion: $0) }
        #expect(done.status == .delivered && done.courierID == CourierID(3))
        let events = try m.store.events(of: o.id)
        #expect(events.map(\.to) == [.created, .quoted, .dispatched, .accepted, .pickedUp, .delivered])
        #expect(events.map(\.actor.role) == [.customer, .customer, .system, .courier, .courier, .courier])
        m.notifier.drain()
        #expect(m.sink.events == ["order.created"] + Array(repeating: "order.status_changed", count: 4))
        let last = try #require(m.sink.got.withLock { $0.last })
        #expect(last.title == "Order \(o.id): delivered")
        #expect(last.recipients.contains(.courier(CourierID(3))) && last.recipients.contains(.customer(CustomerID(7))))
    }

    @Test("customers cancel only their own orders and only before pick-up; couriers cannot cancel; admins can until delivery")
    func cancelRules() throws {
        let m = try Market()
        defer { m.close() }
        let a = try m.order()
        expectCode("forbidden") { try waitFor { m.book.cancel(a.id, by: ActorRef(.customer, 8), completion: $0) } }
        expectCode("forbidden") { try waitFor { m.book.cancel(a.id, by: courier, completion: $0) } }
        _ = try waitFor { m.book.dispatch(a.id, to: CourierID(3), completion: $0) }
        _ = try waitFor { m.book.accept(a.id, by: courier, completion: $0) }
        #expect(try waitFor { m.book.cancel(a.id, by: customer, completion: $0) }.status == .cancelled)

        let b = try m.order()
        _ = try waitFor { m.book.dispatch(b.id, to: CourierID(3), completion: $0) }
        _ = try waitFor { m.book.accept(b.id, by: courier, completion: $0) }
        _ = try waitFor { m.book.pickUp(b.id, by: courier, completion: $0) }
        expectCode("invalid_transition") { try waitFor { m.book.cancel(b.id, by: customer, completion: $0) } }
        #expect(try waitFor { m.book.cancel(b.id, by: ActorRef(.admin, 1), reason: "fraud", completion: $0) }.status == .cancelled)
        expectCode("invalid_transition") { try waitFor { m.book.cancel(b.id, by: ActorRef(.admin, 1), completion: $0) } }
    }

    @Test("only the assigned courier accepts, picks up and delivers (others: forbidden); its steps out of order are invalid_transition")
    func courierRules() throws {
        let m = try Market()
        defer { m.close() }
        let o = try m.order()
        expectCode("forbidden") { try waitFor { m.book.accept(o.id, by: courier, completion: $0) } }
        expectCode("forbidden") { try waitFor { m.book.dispatch(o.id, to: CourierID(3), by: courier, completion: $0) } }
        _ = try waitFor { m.book.dispatch(o.id, to: CourierID(3), completion: $0) }
        expectCode("forbidden") { try waitFor { m.book.accept(o.id, by: ActorRef(.courier, 4), completion: $0) } }
        expectCode("forbidden") { try waitFor { m.book.accept(o.id, by: customer, completion: $0) } }
        expectCode("invalid_transition") { try waitFor { m.book.pickUp(o.id, by: courier, completion: $0) } }
        expectCode("invalid_transition") { try waitFor { m.book.deliver(o.id, by: courier, completion: $0) } }
        let back = try waitFor { m.book.decline(o.id, by: courier, completion: $0) }
        #expect(back.status == .quoted && back.courierID == nil)
        _ = try waitFor { m.book.dispatch(o.id, to: CourierID(4), completion: $0) }
        let timedOut = try waitFor { m.book.decline(o.id, by: .system, reason: "offer_timeout", completion: $0) }
        #expect(timedOut.status == .quoted)
        expectCode("forbidden") { try waitFor { m.book.fail(o.id, by: customer, completion: $0) } }
        expectCode("forbidden") { try waitFor { m.book.fail(o.id, by: courier, completion: $0) } }
        #expect(try waitFor { m.book.fail(o.id, by: .system, reason: "no_courier", completion: $0) }.status == .failed)
        expectCode("order_not_found") { try waitFor { m.book.accept(OrderID(999), by: courier, completion: $0) } }
    }

    @Test("orders need a live, unused quote of the same customer and trip: quote_not_found, quote_expired, quote_mismatch")
    func quoteChecks() throws {
        let m = try Market()
        defer { m.close() }
        expectCode("quote_not_found") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: "q_0000000000000000"), idempotencyKey: nil, completion: $0) }
        }
        let q = try m.quote()
        expectCode("quote_mismatch") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(8), quoteID: q.id), idempotencyKey: nil, completion: $0) }
        }
        expectCode("quote_mismatch") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: q.id, vehicle: "bike"), idempotencyKey: nil, completion: $0) }
        }
        expectCode("quote_mismatch") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: q.id, dropoff: casino), idempotencyKey: nil, completion: $0) }
        }
        let used = try m.quote()
        _ = try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: used.id), idempotencyKey: nil, completion: $0) }
        expectCode("quote_not_found", "a quote buys one order") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: used.id), idempotencyKey: nil, completion: $0) }
        }
        m.clock.advance(seconds: 301)
        expectCode("quote_expired") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: q.id), idempotencyKey: nil, completion: $0) }
        }
        #expect(try m.store.orders(OrderQuery()).count == 1)
    }

    @Test("a quote whose order could not be written is given back for a retry")
    func quoteReleasedOnFailure() throws {
        let m = try Market()
        defer { m.close() }
        let q = try m.quote()
        m.store.close()   // every write now fails with storage_closed
        expectCode("storage_closed") {
            try waitFor { m.book.create(OrderRequest(customerID: CustomerID(7), quoteID: q.id), idempotencyKey: nil, completion: $0) }
        }
        #expect(try m.pricer.liveQuote(q.id).id == q.id)
    }

    @Test("idempotent create: a retry answers the same order (even after the quote expired); another body conflicts")
    func idempotency() throws {
        let m = try Market()
        defer { m.close() }
        let q = try m.quote()
        let req = OrderRequest(customerID: CustomerID(7), quoteID: q.id)
        let first = try waitFor { m.book.create(req, idempotencyKey: "key-1", completion: $0) }
        let second = try waitFor { m.book.create(req, idempotencyKey: "key-1", completion: $0) }
        #expect(!first.replayed && second.replayed && second.order == first.order)
        m.clock.advance(seconds: 3600)
        #expect(try waitFor { m.book.create(req, idempotencyKey: "key-1", completion: $0) }.order.id == first.order.id)
        var changed = req
        changed.vehicle = "car"
        expectCode("idempotency_conflict") { try waitFor { m.book.create(changed, idempotencyKey: "key-1", completion: $0) } }
        expectCode("invalid_input") { try waitFor { m.book.create(req, idempotencyKey: "", completion: $0) } }
        #expect(try m.store.orders(OrderQuery()).count == 1)
        m.notifier.drain()
        #expect(m.sink.events == ["order.created"])
    }

    @Test("viewers see only what is theirs; lists are scoped the same way")
    func visibility() throws {
        let m = try Market()
        defer { m.close() }
        let mine = try m.order(customer: 7)
        let theirs = try m.order(customer: 8)
        _ = try waitFor { m.book.dispatch(theirs.id, to: CourierID(3), completion: $0) }
        #expect(try m.book.order(mine.id, viewer: customer).id == mine.id)
        expectCode("order_not_found") { try m.book.order(theirs.id, viewer: customer) }
        expectCode("order_not_found") { try m.book.order(mine.id, viewer: courier) }
        #expect(try m.book.order(theirs.id, viewer: courier).id == theirs.id)
        #expect(try m.book.order(mine.id, viewer: ActorRef(.admin, 1)).id == mine.id)
        #expect(try m.book.list(OrderQuery(), viewer: customer).map(\.id) == [mine.id])
        #expect(try m.book.list(OrderQuery(customerID: CustomerID(8)), viewer: customer).map(\.id) == [mine.id])
        #expect(try m.book.list(OrderQuery(), viewer: courier).map(\.id) == [theirs.id])
        #expect(try m.book.list(OrderQuery(statuses: [.quoted]), viewer: ActorRef(.admin, 1)).map(\.id) == [mine.id])
    }
}

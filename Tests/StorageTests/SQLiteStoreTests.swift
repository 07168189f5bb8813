import Foundation
import GRDB
import Testing
@testable import Storage
import Vocabulary

@Suite("SQLiteStore: schema, durability, reads")
struct SQLiteStoreTests {
    @Test("opening a new file applies every named migration in order, in WAL mode with the chosen synchronous level")
    func migrations() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite(.full)
        #expect(try store.appliedMigrations() == SQLiteSchema.migrationNames)
        let pragmas = try store.pragmas()
        #expect(pragmas.journalMode == "wal")
        #expect(pragmas.synchronous == 2)   // FULL
        store.close()
        let again = try tmp.openSQLite(.normal)   // reopening applies nothing new and keeps the data
        #expect(try again.appliedMigrations() == SQLiteSchema.migrationNames)
        #expect(try again.pragmas().synchronous == 1)   // NORMAL
        again.close()
    }

    @Test("the schema refuses bad rows itself: unknown status, negative price, out-of-range E7, orphan event")
    func constraints() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite()
        defer { store.close() }
        let good = "INSERT INTO orders (customer_id, status, vehicle, pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, dropoff_lng_e7, price_cents, currency, surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms) VALUES "
        let bad = [
            good + "(1, 'lost', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            good + "(1, 'created', 'car', 0, 0, 0, 0, -1, 'EUR', 1000, 1, 1, 0, 0)",
            good + "(1, 'created', 'car', 910000000, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            good + "(1, 'created', 'car', 0, 0, 0, 0, 100, 'EURO', 1000, 1, 1, 0, 0)",
            good + "(1, 'dispatched', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",   // dispatched without courier
            good + "(1, 'created', 'car', 0, 0, 0, 0, NULL, 'EUR', 1000, 1, 1, 0, 0)",
            "INSERT INTO order_events (order_id, to_status, actor_role, actor_id, at_ms) VALUES (999, 'created', 'system', 0, 0)",
        ]
        for sql in bad {
            #expect(throws: DatabaseError.self, "\(sql)") { try store.pool.write { db in try db.execute(sql: sql) } }
        }
        try store.pool.write { db in try db.execute(sql: good + "(1, 'created', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)") }
        #expect(try store.orders(OrderQuery()).count == 1)
    }

    @Test("order_events is append-only: UPDATE and DELETE are refused by triggers")
    func appendOnlyEvents() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite()
        defer { store.close() }
        _ = try store.createOrderAndWait(sampleOrder(), actor: customerActor)
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in try db.execute(sql: "UPDATE order_events SET to_status = 'delivered'") }
        }
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in try db.execute(sql: "DELETE FROM order_events") }
        }
        #expect(try store.events(of: OrderID(1)).count == 2)
    }

    @Test("acknowledged orders, events and keys survive closing and reopening; live orders reload, terminal ones do not", arguments: StoreKind.testable)
    func durableAcrossReopen(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        var ids: [OrderID] = []
        do {
            let store = try tmp.open(.full)
            for i in 0..<10 {
                let out = try store.createOrderAndWait(
                    sampleOrder(customer: UInt64(100 + i)),
                    idempotency: IdempotencyRequest(key: "k\(i)", fingerprint: "f\(i)"),
                    actor: ActorRef(.customer, UInt64(100 + i)))
                ids.append(out.order.id)
            }
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: ids[0], from: [.quoted], to: .cancelled, actor: .system))
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(
                orderID: ids[1], from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(55)))
            store.close()
        }
        let store = try tmp.open(.full)
        defer { store.close() }
        let live = try store.liveOrders()
        #expect(live.map(\.id) == Array(ids.dropFirst()))
        #expect(live.first?.status == .dispatched)
        #expect(live.first?.courierID == CourierID(55))
        #expect(try store.order(ids[0])?.status == .cancelled)
        #expect(try store.events(of: ids[0]).map(\.to) == [.created, .quoted, .cancelled])
        let replay = try store.createOrderAndWait(
            sampleOrder(customer: 103), idempotency: IdempotencyRequest(key: "k3", fingerprint: "f3"),
            actor: ActorRef(.customer, 103))
        #expect(replay.replayed)
        #expect(replay.order.id == ids[3])
    }

    @Test("events page by sequence: after the last one seen, at most the limit, one order's only", arguments: StoreKind.testable)
    func eventPages(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let a = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        let b = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: a, from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(7)))
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: a, from: [.dispatched], to: .quoted,
                                                                    actor: .system, reason: "declined"))
        let all = try store.events(of: a)
        #expect(all.map(\.to) == [.created, .quoted, .dispatched, .quoted])
        #expect(all.last?.reason == "declined")
        let first = try store.events(of: a, afterSequence: 0, limit: 3)
        #expect(first == Array(all.prefix(3)))
        let rest = try store.events(of: a, afterSequence: try #require(first.last).sequence, limit: 3)
        #expect(rest == [all[3]], "the next page starts after the cursor and skips order \(b)'s events")
        #expect(try store.events(of: a, afterSequence: all[3].sequence, limit: 3).isEmpty)
        #expect(try store.events(of: OrderID(999), afterSequence: 0, limit: 10).isEmpty)
    }

    @Test("lists filter by customer, courier and status, newest first, with a limit", arguments: StoreKind.testable)
    func listing(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        var ids: [OrderID] = []
        for i in 0..<6 {
            ids.append(try store.createOrderAndWait(sampleOrder(customer: UInt64(i % 2)), actor: .system).order.id)
        }
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: ids[2], from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(9)))
        #expect(try store.orders(OrderQuery(customerID: CustomerID(0))).map(\.id) == [ids[4], ids[2], ids[0]])
        #expect(try store.orders(OrderQuery(customerID: CustomerID(1), limit: 2)).map(\.id) == [ids[5], ids[3]])
        #expect(try store.orders(OrderQuery(courierID: CourierID(9))).map(\.id) == [ids[2]])
        #expect(try store.orders(OrderQuery(statuses: [.dispatched])).map(\.id) == [ids[2]])
        #expect(try store.orders(OrderQuery(statuses: [.quoted], limit: 100)).count == 5)
        #expect(try store.orders(OrderQuery(statuses: [])).isEmpty)
        let page1 = try store.orders(OrderQuery(limit: 4))
        let page2 = try store.orders(OrderQuery(beforeID: page1.last?.id, limit: 4))
        #expect(page1.map(\.id) == Array(ids.reversed().prefix(4)))
        #expect(page2.map(\.id) == [ids[1], ids[0]])
    }

    @Test("bad input is refused with invalid_input before reaching SQLite", arguments: StoreKind.testable)
    func invalidInput(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        var o = sampleOrder()
        o.pickup = E7Point(latE7: 950_000_000, lngE7: 0)
        #expect(throws: StorageError(.invalidInput, "pickup coordinates out of range")) {
            try store.createOrderAndWait(o, actor: .system)
        }
        o = sampleOrder(); o.currency = "EURO"
        #expect(throws: StorageError.self) { try store.createOrderAndWait(o, actor: .system) }
        #expect(throws: StorageError.self) {
            try store.createOrderAndWait(sampleOrder(), idempotency: IdempotencyRequest(key: "", fingerprint: "x"), actor: .system)
        }
        #expect(try store.orders(OrderQuery()).isEmpty)
    }

    @Test("UInt64 ids above Int64.max round-trip through the signed SQLite columns", arguments: StoreKind.testable)
    func bigIDs(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let big = UInt64.max - 3
        let o = try store.createOrderAndWait(sampleOrder(customer: big), actor: .system).order
        let d = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: o.id, from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(big)))
        #expect(d.courierID == CourierID(big))
        #expect(try store.order(o.id)?.customerID == CustomerID(big))
        #expect(try store.orders(OrderQuery(courierID: CourierID(big))).count == 1)
    }
}

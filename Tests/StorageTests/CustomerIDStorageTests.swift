import Foundation
import GRDB
import Testing
@testable import Storage
import Vocabulary

@Suite("Opaque customer ids in SQLite: round trip, and files from the numeric-id schema")
struct CustomerIDStorageTests {
    @Test("a UUID customer's order, idempotency key, events and ratings round-trip as given; \"0042\" is not \"42\"", arguments: StoreKind.testable)
    func roundTrip(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let uuid = try #require(CustomerID(rawValue: "9b2e6a40-1c3d-4e5f-8a9b-0c1d2e3f4a5b"))
        var new = sampleOrder()
        new.customerID = uuid
        let created = try store.createOrderAndWait(new, idempotency: IdempotencyRequest(key: "k1", fingerprint: "f"),
                                                   actor: ActorRef(customer: uuid)).order
        #expect(try store.order(created.id)?.customerID == uuid)
        #expect(try store.idempotentOrder(customer: uuid, key: "k1")?.order.id == created.id)
        #expect(try store.orders(OrderQuery(customerID: uuid)).map(\.id) == [created.id])
        #expect(try store.events(of: created.id).first?.actor == ActorRef(customer: uuid))

        for text in ["0042", "42"] {
            var o = sampleOrder()
            o.customerID = try #require(CustomerID(rawValue: text))
            _ = try store.createOrderAndWait(o, actor: .system)
        }
        #expect(try store.orders(OrderQuery(customerID: CustomerID(rawValue: "0042"))).map(\.customerID.rawValue) == ["0042"])
        #expect(try store.orders(OrderQuery(customerID: CustomerID(42))).map(\.customerID.rawValue) == ["42"])

        _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: created.id, from: [.quoted], to: .dispatched,
                                                                    actor: .system, assignCourier: CourierID(5)))
        for to in [OrderStatus.accepted, .pickedUp, .delivered] {
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: created.id, from: OrderLifecycleTestEdges.before(to),
                                                                        to: to, actor: ActorRef(.courier, 5)))
        }
        let rating = try store.addRatingAndWait(NewRating(orderID: created.id, direction: .courierToCustomer, raterID: "5", stars: 4))
        #expect(rating.subjectID == uuid.rawValue)
        #expect(try store.ratingTotals(kind: .customer) == [RatingTotals(kind: .customer, subjectID: uuid.rawValue, count: 1, starsSum: 4)])
        expectStorageError(.forbidden, "a customer id that is not the order's") {
            try store.addRatingAndWait(NewRating(orderID: created.id, direction: .customerToCourier, raterID: "42", stars: 5))
        }
    }

    @Test("a file written by the numeric-id schema (v1) opens: ids become their decimal text, constraints and triggers hold")
    func migratesV1File() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let big = UInt64.max - 1   // stored by v1 as a negative signed integer
        do {
            let queue = try DatabaseQueue(path: tmp.path)
            try SQLiteSchema.migrator().migrate(queue, upTo: "v1_webhooks")
            try queue.write { db in
                let columns = "customer_id, courier_id, status, vehicle, pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, "
                    + "dropoff_lng_e7, price_cents, currency, surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms"
                try db.execute(sql: "INSERT INTO orders (id, \(columns)) VALUES (1, 7, 3, 'delivered', 'car', 1, 1, 2, 2, 900, 'EUR', 1000, 10, 10, 1, 2)")
                try db.execute(sql: "INSERT INTO orders (id, \(columns)) VALUES (2, ?, NULL, 'quoted', 'car', 1, 1, 2, 2, 900, 'EUR', 1000, 10, 10, 1, 2)",
                               arguments: [Int64(bitPattern: big)])
                try db.execute(sql: """
                    INSERT INTO order_events (order_id, from_status, to_status, actor_role, actor_id, at_ms)
                      VALUES (1, NULL, 'created', 'customer', 7, 1), (2, NULL, 'created', 'customer', ?, 1);
                    INSERT INTO idempotency_keys VALUES (?, 'key', 'fp', 2, 1);
                    INSERT INTO ratings VALUES (1, 'customer_to_courier', 7, 3, 5, NULL, 3), (1, 'courier_to_customer', 3, 7, 2, NULL, 3);
                    INSERT INTO rating_totals VALUES ('courier', 3, 1, 5), ('customer', 7, 1, 2);
                    """, arguments: [Int64(bitPattern: big), Int64(bitPattern: big)])
            }
        }
        let store = try tmp.openSQLite()
        #expect(try store.appliedMigrations() == SQLiteSchema.migrationNames)
        #expect(try store.order(OrderID(1))?.customerID == CustomerID(7))
        #expect(try store.order(OrderID(1))?.courierID == CourierID(3))
        #expect(try store.order(OrderID(2))?.customerID.rawValue == String(big))
        #expect(try store.events(of: OrderID(2)).map(\.actor) == [ActorRef(customer: CustomerID(big))])
        #expect(try store.idempotentOrder(customer: CustomerID(big), key: "key")?.order.id == OrderID(2))
        #expect(try store.ratings(of: OrderID(1)).map { [$0.raterID, $0.subjectID] }.sorted { $0[0] < $1[0] } == [["3", "7"], ["7", "3"]])
        #expect(try store.ratingTotals(kind: .customer) == [RatingTotals(kind: .customer, subjectID: "7", count: 1, starsSum: 2)])
        // The rebuilt tables keep their guards: the event log stays append-only, ids stay 1–64 bytes, and new
        // orders continue the old id sequence.
        let next = try store.createOrderAndWait(sampleOrder(), actor: .system).order
        #expect(next.id == OrderID(3))
        let columnTypes = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT type FROM pragma_table_info('orders') WHERE name = 'customer_id'").map { $0[0] as String }
        }
        #expect(columnTypes == ["TEXT"])
        store.close()
        let queue = try DatabaseQueue(path: tmp.path)
        #expect(throws: (any Error).self) { try queue.write { db in try db.execute(sql: "UPDATE order_events SET at_ms = 0") } }
        #expect(throws: (any Error).self) { try queue.write { db in try db.execute(sql: "UPDATE orders SET customer_id = '' WHERE id = 1") } }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pragma_foreign_key_check") } == 0)
    }
}

/// The status an order is in just before `to` along the happy path.
enum OrderLifecycleTestEdges {
    static func before(_ to: OrderStatus) -> Set<OrderStatus> {
        switch to {
        case .accepted: [.dispatched]
        case .pickedUp: [.accepted]
        case .delivered: [.pickedUp]
        default: []
        }
    }
}

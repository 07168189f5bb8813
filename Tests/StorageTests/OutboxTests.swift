import Foundation
import GRDB
import Testing
@testable import Storage
import Vocabulary

@Suite("Stores: the event outbox")
struct OutboxTests {
    private func object(_ entry: OutboxEntry) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(entry.payload)) as? [String: Any])
    }

    /// A store of `kind` with the outbox on, and its event id prefix.
    private func openWithOutbox(_ tmp: TempDatabase) throws -> (store: any Store & OutboxStore, prefix: String?) {
        switch tmp.kind {
        case .sqlite:
            let store = try tmp.openSQLite(outbox: true)
            return (store, store.outboxPrefix)
        case .postgres:
            var config = StoreConfiguration()
            config.outbox = true
            let store = try PostgresStore(url: try #require(tmp.postgresURL), configuration: config)
            return (store, store.outboxPrefix)
        }
    }

    @Test("every order event writes one outbox row in its transaction: subject by status, message id by event",
          arguments: StoreKind.testable)
    func rowsPerEvent(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let (store, outboxPrefix) = try openWithOutbox(tmp)
        defer { store.close() }
        let id = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(
            orderID: id, from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(42)))
        try store.appendOrderNoteAndWait(id, status: .dispatched, reason: "arrived_pickup")
        let events = try store.events(of: id)
        let rows = try store.pendingOutbox(afterID: 0, limit: 100)
        #expect(rows.map(\.subject) == ["hexfleet.order.created", "hexfleet.order.quoted", "hexfleet.order.dispatched",
                                        "hexfleet.order.arrived_pickup"])
        let prefix = try #require(outboxPrefix)
        #expect(prefix.count == 16 && prefix.allSatisfy(\.isHexDigit))
        #expect(rows.map(\.messageID) == events.map { "\(prefix)-order-\($0.sequence)" })
        #expect(try store.outboxCount() == 4)

        let created = try object(rows[0])
        #expect(created["event"] as? String == "order.created")
        #expect(created["order_id"] as? Int == Int(id.rawValue))
        #expect(created["status"] as? String == "created")
        #expect(created["from"] == nil)
        #expect(created["customer_id"] as? String == "7")
        #expect(created["price_cents"] as? Int == 1234)
        #expect(created["event_id"] as? String == rows[0].messageID)
        let dispatched = try object(rows[2])
        #expect(dispatched["event"] as? String == "order.status_changed")
        #expect(dispatched["from"] as? String == "quoted")
        #expect(dispatched["status"] as? String == "dispatched")
        #expect(dispatched["courier_id"] as? Int == 42)
        #expect((dispatched["actor"] as? [String: Any])?["role"] as? String == "system")
        #expect(dispatched["sequence"] as? Int == Int(events[2].sequence))
        #expect(try object(rows[3])["event"] as? String == "order.arrived_pickup")

        // Paging after an id, then deleting what was published.
        #expect(try store.pendingOutbox(afterID: rows[1].id, limit: 1) == [rows[2]])
        try store.deleteOutboxAndWait([rows[0].id, rows[1].id, 999_999])
        #expect(try store.pendingOutbox(afterID: 0, limit: 100) == Array(rows.dropFirst(2)))
    }

    @Test("a refused transition writes neither event nor outbox row; a store without the outbox writes none")
    func atomicAndOptional() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        do {
            let store = try tmp.openSQLite(outbox: true)
            let id = try store.createOrderAndWait(sampleOrder(quote: nil), actor: customerActor).order.id
            expectStorageError(.invalidTransition) {
                try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.delivered], to: .cancelled,
                                                                        actor: .system))
            }
            #expect(try store.outboxCount() == 1)
            #expect(try store.events(of: id).count == 1)
            store.close()
        }
        let plain = try tmp.openSQLite()
        defer { plain.close() }
        #expect(plain.outboxPrefix == nil)
        _ = try plain.createOrderAndWait(sampleOrder(), actor: customerActor)
        #expect(try plain.outboxCount() == 1, "rows written before stay for a relay; new events add none")
    }

    @Test("two stores' event ids differ: each file has its own random identity, kept across reopening")
    func identities() throws {
        let a = try TempDatabase(), b = try TempDatabase()
        defer { a.remove(); b.remove() }
        let first = try a.openSQLite(outbox: true)
        let idA = first.outboxPrefix
        first.close()
        let again = try a.openSQLite(outbox: true)
        defer { again.close() }
        let other = try b.openSQLite(outbox: true)
        defer { other.close() }
        #expect(again.outboxPrefix == idA)
        #expect(other.outboxPrefix != idA)
    }

    @Test("subject tokens keep lower-case letters, digits and underscores only")
    func subjectTokens() {
        #expect(OrderOutboxRow.subjectToken("arrived_pickup") == "arrived_pickup")
        #expect(OrderOutboxRow.subjectToken("a.b >*c") == "a_b___c")
        #expect(OrderOutboxRow.subjectToken("") == "note")
    }
}

extension Store {
    func appendOrderNoteAndWait(_ id: OrderID, status: OrderStatus, reason: String) throws(StorageError) {
        try Self.wait { appendOrderNote(id, status: status, actor: .system, reason: reason, atMs: 1, completion: $0) }
    }

}

extension OutboxStore {
    func deleteOutboxAndWait(_ ids: [Int64]) throws(StorageError) {
        try SQLiteStore.wait { deleteOutbox(ids: ids, completion: $0) }
    }
}

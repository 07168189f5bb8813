import Foundation
import GRDB
import JSON
import Vocabulary

extension SQLiteStore: OutboxStore {
    /// Writes the outbox row of one order event, inside the caller's transaction, when the store keeps an outbox.
    /// The payload is the webhook notification's JSON (`order.created` / `order.status_changed`) with the event's
    /// own fields added (`event_id`, `sequence`, `actor`, `reason`), so a consumer can forward it unchanged.
    static func appendOutbox(_ db: Database, prefix: String, sequence: Int64, order: OrderRecord, from: OrderStatus?, to: OrderStatus,
                             actor: ActorRef, reason: String?, atMs: Int64) throws {
        let messageID = "\(prefix)-order-\(sequence)"
        // A note (an arrival) keeps the status on both sides and names what happened in `reason`: its subject and
        // event name come from the reason, kept to subject-safe characters.
        let note = from == to ? reason.map(subjectToken) : nil
        var w = JSONWriter(capacity: 320)
        w.beginObject()
        w.key("actor"); w.beginObject(); w.key("id"); w.string(actor.id); w.key("role"); w.string(actor.role.rawValue); w.endObject()
        w.key("at_ms"); w.number(atMs)
        if let courier = order.courierID { w.key("courier_id"); w.number(courier.rawValue) }
        w.key("currency"); w.string(order.currency)
        w.key("customer_id"); w.string(order.customerID.rawValue)
        w.key("event"); w.string(note.map { "order.\($0)" } ?? (from == nil ? "order.created" : "order.status_changed"))
        w.key("event_id"); w.string(messageID)
        if let from { w.key("from"); w.string(from.rawValue) }
        w.key("order_id"); w.number(order.id.rawValue)
        w.key("price_cents"); w.number(order.priceCents)
        if let reason { w.key("reason"); w.string(reason) }
        w.key("sequence"); w.number(sequence)
        w.key("status"); w.string(to.rawValue)
        w.endObject()
        let stmt = try db.cachedStatement(sql: """
            INSERT INTO outbox (subject, message_id, payload, created_at_ms) VALUES (?, ?, ?, ?)
            """)
        try stmt.execute(arguments: ["hexfleet.order.\(note ?? to.rawValue)", messageID, Data(w.bytes), atMs])
    }

    /// `text` as one NATS subject token: lower-case letters, digits and `_` kept, anything else `_`; empty → `note`.
    static func subjectToken(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(64).map { c -> Character in
            ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" ? Character(c) : "_"
        }
        return kept.isEmpty ? "note" : String(kept)
    }

    public func pendingOutbox(afterID: Int64, limit: Int) throws(StorageError) -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, subject, message_id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?
                """, arguments: [afterID, max(limit, 0)]).map { row in
                let payload: Data = row[3]
                return OutboxEntry(id: row[0], subject: row[1], messageID: row[2], payload: [UInt8](payload))
            }
        }
    }

    public func deleteOutbox(ids: [Int64], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard !ids.isEmpty else {
            completion(.success(()))
            return
        }
        submit({ db in
            let stmt = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
            for id in ids { try stmt.execute(arguments: [id]) }
        }, completion: completion)
    }

    public func outboxCount() throws(StorageError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }
    }
}

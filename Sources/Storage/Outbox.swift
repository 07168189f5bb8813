import JSON
import Vocabulary

/// One event waiting in the outbox to be published (docs/events.md): written in the same transaction as the change
/// it tells of, deleted only once the broker acknowledged it.
public struct OutboxEntry: Sendable, Equatable {
    /// The row's id: rows are published in id order.
    public var id: Int64
    /// The subject it goes to, e.g. `hexfleet.order.dispatched`.
    public var subject: String
    /// The event's id, unique across the store; the broker drops a second publish of the same id (`Nats-Msg-Id`).
    public var messageID: String
    /// The event's JSON.
    public var payload: [UInt8]

    /// An entry.
    public init(id: Int64, subject: String, messageID: String, payload: [UInt8]) {
        self.id = id
        self.subject = subject
        self.messageID = messageID
        self.payload = payload
    }
}

/// A store with an outbox: what the event relay reads and clears. Separate from `Store` so a store without an
/// outbox still builds; a store that has one writes a row with every order event when its configuration says so.
public protocol OutboxStore: AnyObject, Sendable {
    /// The prefix of this store's event ids (16 hex digits drawn when it was made), nil when it writes no outbox.
    var outboxPrefix: String? { get }
    /// The oldest entries, at most `limit`, in id order, those with an id above `afterID` (0: from the first).
    /// A read on a pooled connection: call it off the loop.
    func pendingOutbox(afterID: Int64, limit: Int) throws(StorageError) -> [OutboxEntry]
    /// Deletes the entries with these ids (published and acknowledged); ids already gone are ignored.
    func deleteOutbox(ids: [Int64], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)
    /// How many entries wait.
    func outboxCount() throws(StorageError) -> Int
}

/// The outbox row of one order event, the same for every store: subject, message id and payload. The payload is the
/// webhook notification's JSON (`order.created` / `order.status_changed`) with the event's own fields added
/// (`event_id`, `sequence`, `actor`, `reason`), so a consumer can forward it unchanged.
struct OrderOutboxRow {
    let subject: String
    let messageID: String
    let payload: [UInt8]

    init(prefix: String, sequence: Int64, order: OrderRecord, from: OrderStatus?, to: OrderStatus, actor: ActorRef,
         reason: String?, atMs: Int64) {
        messageID = "\(prefix)-order-\(sequence)"
        // A note (an arrival) keeps the status on both sides and names what happened in `reason`: its subject and
        // event name come from the reason, kept to subject-safe characters.
        let note = from == to ? reason.map(Self.subjectToken) : nil
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
        payload = w.bytes
        subject = "hexfleet.order.\(note ?? to.rawValue)"
    }

    /// `text` as one NATS subject token: lower-case letters, digits and `_` kept, anything else `_`; empty → `note`.
    static func subjectToken(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(64).map { c -> Character in
            ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" ? Character(c) : "_"
        }
        return kept.isEmpty ? "note" : String(kept)
    }
}

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
    /// The oldest entries, at most `limit`, in id order, those with an id above `afterID` (0: from the first).
    /// A read on a pooled connection: call it off the loop.
    func pendingOutbox(afterID: Int64, limit: Int) throws(StorageError) -> [OutboxEntry]
    /// Deletes the entries with these ids (published and acknowledged); ids already gone are ignored.
    func deleteOutbox(ids: [Int64], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void)
    /// How many entries wait.
    func outboxCount() throws(StorageError) -> Int
}

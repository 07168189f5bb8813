import GRDB
import Vocabulary

extension SQLiteStore {
    /// Appends an event that is not a status change (a courier's arrival) to an order's log: the row keeps the
    /// order's status on both sides and says what happened in `reason` (e.g. `arrived_pickup`).
    /// - Completion: `order_not_found` when the order does not exist.
    public func appendOrderNote(_ order: OrderID, status: OrderStatus, actor: ActorRef, reason: String, atMs: Int64,
                                completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        let outbox = outboxPrefix
        submit({ db in
            guard let record = try Self.fetchOrder(db, order) else {
                throw StorageError(.orderNotFound, "no order \(order)")
            }
            try Self.appendEvent(db, order: record, from: status, to: status, actor: actor, reason: reason, atMs: atMs,
                                 outbox: outbox)
        }, completion: completion)
    }
}

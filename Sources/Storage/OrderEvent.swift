import Vocabulary

/// One row of the append-only `order_events` log: a status change and who made it.
public struct OrderEvent: Sendable, Equatable {
    /// Monotonic event id (SQLite rowid).
    public var sequence: Int64
    /// The order.
    public var orderID: OrderID
    /// The status before; nil for the creation event.
    public var from: OrderStatus?
    /// The status after.
    public var to: OrderStatus
    /// Who made the change.
    public var actor: ActorRef
    /// Free text reason (e.g. `declined`, `offer_timeout`), or nil.
    public var reason: String?
    /// When, ms since the epoch.
    public var atMs: Int64
}

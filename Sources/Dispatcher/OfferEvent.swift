import Vocabulary

/// What happened to offers, in order, for notifications (driver push, customer updates, metrics).
public enum OfferEvent: Sendable, Hashable {
    /// An offer was made; push it to the courier.
    case offered(Offer)
    /// The courier accepted: the order is assigned to them.
    case accepted(order: OrderID, courier: CourierID, atMs: Int64)
    /// The courier declined; that pair will never be offered again.
    case declined(order: OrderID, courier: CourierID, atMs: Int64)
    /// Nobody answered before the deadline; that pair will never be offered again.
    case expired(order: OrderID, courier: CourierID, atMs: Int64)
    /// The offer was taken back (order cancelled, courier gone); the pair is not excluded.
    case withdrawn(order: OrderID, courier: CourierID, atMs: Int64)
    /// The order goes back to the waiting queue (after a decline, expiry or a courier withdrawal).
    case returnedToQueue(WaitingOrder)
}

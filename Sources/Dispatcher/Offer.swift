import Vocabulary

/// An open offer of one order to one courier, with its deadline.
public struct Offer: Sendable, Hashable {
    /// The order offered (kept whole so it can return to the queue).
    public var order: WaitingOrder
    /// The courier it is offered to.
    public var courier: CourierID
    /// When it was offered (ms since the Unix epoch).
    public var offeredAtMs: Int64
    /// When it expires unless answered.
    public var expiresAtMs: Int64
    /// The (order, courier) key.
    public var pair: OfferPair { OfferPair(order: order.id, courier: courier) }
}

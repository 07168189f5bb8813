/// An open offer of one order to one courier, with its deadline.
public struct Offer: Sendable, Hashable {
    public var order: WaitingOrder
    public var courier: CourierID
    public var offeredAtMs: Int64
    public var expiresAtMs: Int64
    /// The (order, courier) key.
    public var pair: OfferPair { OfferPair(order: order.id, courier: courier) }
}

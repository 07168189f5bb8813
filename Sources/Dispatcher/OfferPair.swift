import Vocabulary

/// An (order, courier) pair: the key of offers, declines and exclusions.
public struct OfferPair: Hashable, Sendable {
    /// The order.
    public var order: OrderID
    /// The courier.
    public var courier: CourierID
    /// A pair.
    public init(order: OrderID, courier: CourierID) {
        self.order = order
        self.courier = courier
    }
}

/// An (order, courier) pair: the key of offers, declines and exclusions.
public struct OfferPair: Hashable, Sendable {
    public var order: OrderID
    public var courier: CourierID
    public init(order: OrderID, courier: CourierID) {
        self.order = order
        self.courier = courier
    }
}

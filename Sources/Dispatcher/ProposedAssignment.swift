import Vocabulary

/// One proposed (order, courier) pair of a round; the loop turns it into an offer.
public struct ProposedAssignment: Sendable, Hashable {
    /// The order to offer.
    public var order: OrderID
    /// The courier to offer it to.
    public var courier: CourierID
    /// Pickup ETA from the round's ETA provider.
    public var pickupETASeconds: Double
    /// The pair's cost under the round's cost model.
    public var cost: Double
}

import Vocabulary

/// An order waiting for a courier, as a value for a dispatch round.
public struct WaitingOrder: Sendable, Hashable {
    /// The order.
    public var id: OrderID
    /// Where the courier picks up.
    public var pickup: LatLng
    /// When the order started waiting (ms since the Unix epoch): orders are served first come,
    /// first served by the greedy policy, and the waiting-time term and search radius grow with it.
    public var createdAtMs: Int64
    /// Capacity the order takes, in the courier's `capacityUnits`.
    public var sizeUnits: Int
    /// Vehicles allowed to carry it.
    public var allowedVehicles: VehicleSet

    /// A waiting order; by default one unit, any vehicle.
    public init(
        id: OrderID, pickup: LatLng, createdAtMs: Int64, sizeUnits: Int = 1, allowedVehicles: VehicleSet = .all
    ) {
        self.id = id
        self.pickup = pickup
        self.createdAtMs = createdAtMs
        self.sizeUnits = sizeUnits
        self.allowedVehicles = allowedVehicles
    }
}

import Vocabulary

/// What dispatch needs to know about one courier at the start of a round: a value, so a round can
/// run on a worker while the loop keeps updating the live fleet.
public struct CourierSnapshot: Sendable, Hashable {
    /// The courier.
    public var id: CourierID
    /// Last known position.
    public var position: LatLng
    /// Working state at snapshot time.
    public var status: DriverStatus
    /// What the courier drives.
    public var vehicle: VehicleType
    /// Free carrying capacity, in the same units as `WaitingOrder.sizeUnits`.
    public var capacityUnits: Int
    /// When the courier last became free (ms since the Unix epoch): drives the idle-time term.
    public var idleSinceMs: Int64
    /// Orders already given to this courier in the current fairness window (shift or day).
    public var recentAssignments: Int
    /// Average customer rating, 1...5, when known.
    public var rating: Double?

    /// A snapshot; defaults describe an available scooter courier with one unit of capacity.
    public init(
        id: CourierID, position: LatLng, status: DriverStatus = .available, vehicle: VehicleType = .scooter,
        capacityUnits: Int = 1, idleSinceMs: Int64 = 0, recentAssignments: Int = 0, rating: Double? = nil
    ) {
        self.id = id
        self.position = position
        self.status = status
        self.vehicle = vehicle
        self.capacityUnits = capacityUnits
        self.idleSinceMs = idleSinceMs
        self.recentAssignments = recentAssignments
        self.rating = rating
    }
}

import Vocabulary

/// An order as stored: one row of `orders`.
///
/// Money is integer cents; coordinates are E7 integers; times are milliseconds since the Unix epoch.
public struct OrderRecord: Sendable, Equatable {
    /// The order's id.
    public var id: OrderID
    /// Who placed it.
    public var customerID: CustomerID
    /// The assigned courier, set when the order is dispatched; nil before and after a decline.
    public var courierID: CourierID?
    /// Current status.
    public var status: OrderStatus
    /// Vehicle type priced for (`car`, `bike`, `scooter`, …).
    public var vehicle: String
    /// Pick-up point.
    public var pickup: E7Point
    /// Drop-off point.
    public var dropoff: E7Point
    /// The quote the price came from, if any.
    public var quoteID: String?
    /// Price the customer was quoted, in cents of `currency`.
    public var priceCents: Int64
    /// ISO 4217 code, three letters.
    public var currency: String
    /// Surge multiplier applied, × 1000 (1000 = no surge).
    public var surgeMilli: Int64
    /// Route distance the price used, metres.
    public var distanceMeters: Int64
    /// Route duration the price used, seconds.
    public var durationSeconds: Int64
    /// When the order was created, ms since the epoch.
    public var createdAtMs: Int64
    /// When the status last changed, ms since the epoch.
    public var updatedAtMs: Int64
    /// Ready time, deadline and maximum ride given at creation (empty for orders without them).
    public var timing = OrderTiming()

    /// A record from its fields (for other `Store` implementations and tests).
    public init(id: OrderID, customerID: CustomerID, courierID: CourierID?, status: OrderStatus, vehicle: String,
                pickup: E7Point, dropoff: E7Point, quoteID: String?, priceCents: Int64, currency: String,
                surgeMilli: Int64, distanceMeters: Int64, durationSeconds: Int64, createdAtMs: Int64, updatedAtMs: Int64) {
        self.id = id
        self.customerID = customerID
        self.courierID = courierID
        self.status = status
        self.vehicle = vehicle
        self.pickup = pickup
        self.dropoff = dropoff
        self.quoteID = quoteID
        self.priceCents = priceCents
        self.currency = currency
        self.surgeMilli = surgeMilli
        self.distanceMeters = distanceMeters
        self.durationSeconds = durationSeconds
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }
}

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

/// What a client asks to create; the store adds id, status and timestamps.
public struct NewOrder: Sendable, Equatable {
    /// Who places it.
    public var customerID: CustomerID
    /// Vehicle type (1–32 characters).
    public var vehicle: String
    /// Pick-up point.
    public var pickup: E7Point
    /// Drop-off point.
    public var dropoff: E7Point
    /// The quote it refers to. With a quote, the order is written as `created` then `quoted`
    /// in the same transaction (two events); without, it stays `created`.
    public var quoteID: String?
    /// Price in cents (≥ 0).
    public var priceCents: Int64
    /// ISO 4217 code, three letters.
    public var currency: String
    /// Surge × 1000 (≥ 0).
    public var surgeMilli: Int64
    /// Route distance, metres (≥ 0).
    public var distanceMeters: Int64
    /// Route duration, seconds (≥ 0).
    public var durationSeconds: Int64

    /// A new order; see each property for its range. Validation happens in the store (`invalid_input`).
    public init(customerID: CustomerID, vehicle: String, pickup: E7Point, dropoff: E7Point, quoteID: String?,
                priceCents: Int64, currency: String, surgeMilli: Int64 = 1000,
                distanceMeters: Int64, durationSeconds: Int64) {
        self.customerID = customerID
        self.vehicle = vehicle
        self.pickup = pickup
        self.dropoff = dropoff
        self.quoteID = quoteID
        self.priceCents = priceCents
        self.currency = currency
        self.surgeMilli = surgeMilli
        self.distanceMeters = distanceMeters
        self.durationSeconds = durationSeconds
    }

    /// Nil when every field is in range, else the reason.
    func validationFailure() -> String? {
        if vehicle.isEmpty || vehicle.utf8.count > 32 { return "vehicle must be 1–32 bytes" }
        if !pickup.isValid { return "pickup coordinates out of range" }
        if !dropoff.isValid { return "dropoff coordinates out of range" }
        if priceCents < 0 { return "price must not be negative" }
        if currency.utf8.count != 3 { return "currency must be a three-letter code" }
        if surgeMilli < 0 { return "surge must not be negative" }
        if distanceMeters < 0 || durationSeconds < 0 { return "distance and duration must not be negative" }
        if let q = quoteID, q.isEmpty || q.utf8.count > 64 { return "quote id must be 1–64 bytes" }
        return nil
    }
}

/// An `Idempotency-Key` and the fingerprint of the request body it came with.
///
/// Keys are scoped per customer. The same key with the same fingerprint returns the first order;
/// with another fingerprint it fails with `idempotency_conflict`.
public struct IdempotencyRequest: Sendable, Equatable {
    /// The client's key (1–255 bytes).
    public var key: String
    /// A digest of the request body, computed by the caller (any stable string).
    public var fingerprint: String

    /// A key and its body fingerprint.
    public init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// What `createOrder` answers.
public struct CreateOrderOutcome: Sendable, Equatable {
    /// The order, new or the one first created with the same idempotency key.
    public var order: OrderRecord
    /// True when the key was seen before and nothing was written.
    public var replayed: Bool

    /// An outcome.
    public init(order: OrderRecord, replayed: Bool) {
        self.order = order
        self.replayed = replayed
    }
}

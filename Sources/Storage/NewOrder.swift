import Vocabulary

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
    /// Ready time, deadline and maximum ride, when the client gave them.
    public var timing = OrderTiming()

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

    /// Why an order with this idempotency request cannot be created (checked before any SQL), or nil.
    func invalidity(idempotency: IdempotencyRequest?) -> StorageError? {
        if let why = validationFailure() { return StorageError(.invalidInput, why) }
        if let key = idempotency?.key, key.isEmpty || key.utf8.count > 255 {
            return StorageError(.invalidInput, "idempotency key must be 1–255 bytes")
        }
        return nil
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
        if let why = timing.validationFailure() { return why }
        return nil
    }
}

import Storage
import Vocabulary

/// A client's request to order a quoted trip (`POST /v1/orders`).
///
/// The quote fixes vehicle, points and price; fields given here must equal the quote's, or the
/// request fails with `quote_mismatch`.
public struct OrderRequest: Sendable, Equatable {
    /// Who orders; must be the quote's customer.
    public var customerID: CustomerID
    /// The quote (required).
    public var quoteID: String
    /// Optional: must equal the quote's vehicle.
    public var vehicle: String?
    /// Optional: must equal the quote's pick-up.
    public var pickup: E7Point?
    /// Optional: must equal the quote's drop-off.
    public var dropoff: E7Point?
    /// Ready time, deadline and maximum ride (not part of the quote; part of the fingerprint when given).
    public var timing = OrderTiming()

    /// A request.
    public init(customerID: CustomerID, quoteID: String, vehicle: String? = nil, pickup: E7Point? = nil,
                dropoff: E7Point? = nil) {
        self.customerID = customerID
        self.quoteID = quoteID
        self.vehicle = vehicle
        self.pickup = pickup
        self.dropoff = dropoff
    }

    /// A stable digest of the request body, for idempotency: SHA-256 hex of a canonical rendering.
    public var fingerprint: String {
        func p(_ e: E7Point?) -> String { e.map { "\($0.latE7),\($0.lngE7)" } ?? "-" }
        let canonical = "v1|\(customerID)|\(quoteID)|\(vehicle ?? "-")|\(p(pickup))|\(p(dropoff))" + timing.fingerprintSuffix
        return Digests.hex(Digests.sha256(Array(canonical.utf8)))
    }
}

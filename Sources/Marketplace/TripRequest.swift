import Storage
import Vocabulary

/// A client's request to order a trip priced at creation, without a quote (`POST /v1/orders` with no
/// `quote_id`): the order book quotes it and uses the quote at once.
public struct TripRequest: Sendable, Equatable {
    /// Who orders.
    public var customerID: CustomerID
    /// Vehicle type from the fare table.
    public var vehicle: String
    /// Pick-up point.
    public var pickup: E7Point
    /// Drop-off point.
    public var dropoff: E7Point
    /// Free text for the courier (part of the idempotency fingerprint).
    public var notes: String?
    /// Ready time, deadline and maximum ride (part of the fingerprint when given).
    public var timing = OrderTiming()

    /// A request.
    public init(customerID: CustomerID, vehicle: String, pickup: E7Point, dropoff: E7Point, notes: String? = nil) {
        self.customerID = customerID
        self.vehicle = vehicle
        self.pickup = pickup
        self.dropoff = dropoff
        self.notes = notes
    }

    /// A stable digest of the request, for idempotency: SHA-256 hex of a canonical rendering (lengths
    /// prefix the free-text fields, so no two requests render alike).
    public var fingerprint: String {
        let n = notes.map { "\($0.utf8.count):\($0)" } ?? "-"
        let canonical = "v1t|\(customerID)|\(vehicle.utf8.count):\(vehicle)|\(pickup.latE7),\(pickup.lngE7)|"
            + "\(dropoff.latE7),\(dropoff.lngE7)|\(n)" + timing.fingerprintSuffix
        return Digests.hex(Digests.sha256(Array(canonical.utf8)))
    }
}

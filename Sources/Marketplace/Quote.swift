import Storage
import Vocabulary

/// A priced trip a customer may order before it expires.
public struct Quote: Sendable, Equatable {
    /// `q_` and 16 hex digits, random.
    public var id: String
    /// The customer it was made for.
    public var customerID: CustomerID
    /// Vehicle type.
    public var vehicle: String
    /// Pick-up point.
    public var pickup: E7Point
    /// Drop-off point.
    public var dropoff: E7Point
    /// Route distance, metres.
    public var distanceMeters: Int64
    /// Route duration, seconds.
    public var durationSeconds: Int64
    /// Total price, cents.
    public var priceCents: Int64
    /// ISO 4217 code.
    public var currency: String
    /// Surge multiplier × 1000 applied (1000 = none).
    public var surgeMilli: Int64
    /// The surge zone of the pick-up, when the keyer knew it.
    public var zone: UInt64?
    /// How the price was made.
    public var breakdown: FareBreakdown
    /// Made at, ms since the epoch.
    public var createdAtMs: Int64
    /// Valid until (exclusive), ms since the epoch.
    public var expiresAtMs: Int64

    /// Surge as a multiplier.
    public var surge: Double { Double(surgeMilli) / 1000 }
}

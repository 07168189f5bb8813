import Foundation

/// Fares for one vehicle type, in integer cents.
public struct VehicleFare: Sendable, Equatable, Codable {
    /// Flat amount per trip.
    public var baseCents: Int64
    /// Per kilometre of route.
    public var perKmCents: Int64
    /// Per minute of route duration.
    public var perMinuteCents: Int64
    /// The least a trip costs before surge.
    public var minimumCents: Int64

    /// A fare.
    public init(baseCents: Int64, perKmCents: Int64, perMinuteCents: Int64, minimumCents: Int64) {
        self.baseCents = baseCents
        self.perKmCents = perKmCents
        self.perMinuteCents = perMinuteCents
        self.minimumCents = minimumCents
    }

    enum CodingKeys: String, CodingKey {
        case baseCents = "base_cents", perKmCents = "per_km_cents", perMinuteCents = "per_minute_cents"
        case minimumCents = "minimum_cents"
    }
}

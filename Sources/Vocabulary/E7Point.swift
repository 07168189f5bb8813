/// A position as integer degrees × 1e7, the way orders store and show coordinates: exact, so what is stored is
/// what every message prints (a round trip through radians would change the last digit).
public struct E7Point: Hashable, Sendable {
    /// Latitude × 1e7, in −900,000,000…900,000,000.
    public var latE7: Int32
    /// Longitude × 1e7, in −1,800,000,000…1,800,000,000.
    public var lngE7: Int32

    /// A point from E7 integers, unchecked; see `isValid`.
    @inlinable public init(latE7: Int32, lngE7: Int32) {
        self.latE7 = latE7
        self.lngE7 = lngE7
    }

    /// A point from decimal degrees, or nil when they are not finite or out of range.
    public init?(latDegrees: Double, lngDegrees: Double) {
        guard latDegrees.isFinite, lngDegrees.isFinite,
              latDegrees >= -90, latDegrees <= 90, lngDegrees >= -180, lngDegrees <= 180 else { return nil }
        self.latE7 = Int32((latDegrees * 1e7).rounded())
        self.lngE7 = Int32((lngDegrees * 1e7).rounded())
    }

    /// The nearest E7 point to a computed one (clamped to the valid range): a point that came from E7 values
    /// comes back to exactly them, whatever the radians round trip did to its last bits.
    public init(_ point: LatLng) {
        self.latE7 = Int32((min(90, max(-90, point.latDegrees)) * 1e7).rounded())
        self.lngE7 = Int32((min(180, max(-180, point.lngDegrees)) * 1e7).rounded())
    }

    /// Whether both values are in range.
    public var isValid: Bool {
        latE7 >= -900_000_000 && latE7 <= 900_000_000 && lngE7 >= -1_800_000_000 && lngE7 <= 1_800_000_000
    }

    /// Latitude in decimal degrees.
    @inlinable public var latDegrees: Double { Double(latE7) / 1e7 }
    /// Longitude in decimal degrees.
    @inlinable public var lngDegrees: Double { Double(lngE7) / 1e7 }

    /// The point for computation (radians).
    @inlinable public var latLng: LatLng { LatLng(degrees: latDegrees, lngDegrees) }
}

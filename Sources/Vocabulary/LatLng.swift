/// A point on the sphere, the one point type every module computes with, stored in radians as H3 stores it (`LatLng` in h3's `latLng.c`).
///
/// Latitude is in [-π/2, π/2] and longitude in [-π, π] for points built from valid degrees;
/// nothing here normalizes silently, so callers validate input with `isValidDegrees` first.
public struct LatLng: Hashable, Sendable {
    /// Latitude in radians.
    public var lat: Double
    /// Longitude in radians.
    public var lng: Double

    /// A point from radians, as-is.
    @inlinable
    public init(lat: Double, lng: Double) {
        self.lat = lat
        self.lng = lng
    }

    /// A point from decimal degrees.
    @inlinable
    public init(degrees latDegrees: Double, _ lngDegrees: Double) {
        self.lat = latDegrees * (Double.pi / 180)
        self.lng = lngDegrees * (Double.pi / 180)
    }

    /// Latitude in decimal degrees.
    @inlinable public var latDegrees: Double { lat * (180 / Double.pi) }
    /// Longitude in decimal degrees.
    @inlinable public var lngDegrees: Double { lng * (180 / Double.pi) }

    /// Whether degrees are finite and inside [-90, 90] × [-180, 180].
    @inlinable
    public static func isValidDegrees(lat: Double, lng: Double) -> Bool {
        lat.isFinite && lng.isFinite && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180
    }

    /// Whether both coordinates are finite and inside [-π/2, π/2] × [-π, π].
    @inlinable
    public var isValid: Bool {
        lat.isFinite && lng.isFinite && abs(lat) <= Double.pi / 2 && abs(lng) <= Double.pi
    }
}

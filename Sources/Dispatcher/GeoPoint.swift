#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A position in decimal degrees (WGS84), as the Dispatcher's protocols exchange it.
///
/// Dispatcher keeps its own small type so it does not depend on HexGeo's internals; the Engine
/// converts from `LatLng` (radians) at the boundary.
public struct GeoPoint: Sendable, Hashable {
    /// Latitude in degrees, [-90, 90].
    public var latitudeDegrees: Double
    /// Longitude in degrees, [-180, 180].
    public var longitudeDegrees: Double

    /// A point from degrees, as given (check `isValid` for outside input).
    public init(latitudeDegrees: Double, longitudeDegrees: Double) {
        self.latitudeDegrees = latitudeDegrees
        self.longitudeDegrees = longitudeDegrees
    }

    /// Whether both coordinates are finite and in range.
    public var isValid: Bool {
        latitudeDegrees.isFinite && longitudeDegrees.isFinite && abs(latitudeDegrees) <= 90
            && abs(longitudeDegrees) <= 180
    }

    /// The mean Earth radius (IUGG, as H3 and the HTTP API use).
    public static let earthRadiusMeters = 6_371_008.8

    /// Great-circle (haversine) distance in meters.
    public func distanceMeters(to other: GeoPoint) -> Double {
        let toRad = Double.pi / 180
        let lat1 = latitudeDegrees * toRad, lat2 = other.latitudeDegrees * toRad
        let sinDLat = sin((lat2 - lat1) * 0.5)
        let sinDLng = sin((other.longitudeDegrees - longitudeDegrees) * toRad * 0.5)
        let h = sinDLat * sinDLat + cos(lat1) * cos(lat2) * sinDLng * sinDLng
        return 2 * asin(min(1, h.squareRoot())) * Self.earthRadiusMeters
    }

    /// The point as a unit vector (x, y, z), for fast many-pair distances.
    var unitVector: SIMD3<Double> {
        let toRad = Double.pi / 180
        let lat = latitudeDegrees * toRad, lng = longitudeDegrees * toRad
        return SIMD3(cos(lat) * cos(lng), cos(lat) * sin(lng), sin(lat))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Great-circle geometry on the sphere of radius `Geodesy.earthRadiusMeters`. The distance lives here, below
/// every module, so there is one formula for it; HexGeo adds bearings, destinations and cross-track distances.
public enum Geodesy {
    /// The mean Earth radius used for every distance the API reports (IUGG mean radius, as H3 uses).
    public static let earthRadiusMeters = 6_371_008.8

    /// Great-circle distance in meters (haversine form: accurate for tiny and large separations alike).
    @inlinable
    public static func distanceMeters(_ a: LatLng, _ b: LatLng) -> Double {
        centralAngle(a, b) * earthRadiusMeters
    }

    /// The central angle between two points, in radians.
    @inlinable
    public static func centralAngle(_ a: LatLng, _ b: LatLng) -> Double {
        let sinDLat = sin((b.lat - a.lat) * 0.5)
        let sinDLng = sin((b.lng - a.lng) * 0.5)
        let h = sinDLat * sinDLat + cos(a.lat) * cos(b.lat) * sinDLng * sinDLng
        return 2 * asin(min(1, h.squareRoot()))
    }
}

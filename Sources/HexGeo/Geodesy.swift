import Foundation

/// Great-circle geometry on the sphere of radius `Geodesy.earthRadiusMeters`.
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

    /// Initial bearing from `a` to `b`, in radians clockwise from north, in (-π, π].
    @inlinable
    public static func initialBearing(from a: LatLng, to b: LatLng) -> Double {
        let dLng = b.lng - a.lng
        let y = sin(dLng) * cos(b.lat)
        let x = cos(a.lat) * sin(b.lat) - sin(a.lat) * cos(b.lat) * cos(dLng)
        return atan2(y, x)
    }

    /// The point reached from `origin` along `bearing` (radians) after `distanceMeters`.
    @inlinable
    public static func destination(from origin: LatLng, bearing: Double, distanceMeters: Double) -> LatLng {
        let delta = distanceMeters / earthRadiusMeters
        let lat = asin(sin(origin.lat) * cos(delta) + cos(origin.lat) * sin(delta) * cos(bearing))
        var lng = origin.lng + atan2(sin(bearing) * sin(delta) * cos(origin.lat), cos(delta) - sin(origin.lat) * sin(lat))
        if lng > Double.pi { lng -= 2 * Double.pi } else if lng < -Double.pi { lng += 2 * Double.pi }
        return LatLng(lat: lat, lng: lng)
    }
}

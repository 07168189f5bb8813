import Foundation
import Vocabulary

extension Geodesy {
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

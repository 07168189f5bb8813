import Foundation
import Vocabulary

/// A point in 3-space; on the unit sphere for H3's projections (x to 0°/0°, y to 0°/90°E, z to the north pole).
@usableFromInline
struct Vec3: Sendable {
    @usableFromInline var x: Double
    @usableFromInline var y: Double
    @usableFromInline var z: Double
    @inlinable init(x: Double, y: Double, z: Double) { self.x = x; self.y = y; self.z = z }

    @inlinable
    init(_ p: LatLng) {
        let r = cos(p.lat)
        x = cos(p.lng) * r
        y = sin(p.lng) * r
        z = sin(p.lat)
    }

    @inlinable var latLng: LatLng { LatLng(lat: asin(z), lng: atan2(y, x)) }

    /// a·u + b·v, component-wise in that order.
    @inlinable
    static func combine(_ a: Double, _ u: Vec3, _ b: Double, _ v: Vec3) -> Vec3 {
        Vec3(x: a * u.x + b * v.x, y: a * u.y + b * v.y, z: a * u.z + b * v.z)
    }

    @inlinable
    func cross(_ v: Vec3) -> Vec3 {
        Vec3(x: y * v.z - z * v.y, y: z * v.x - x * v.z, z: x * v.y - y * v.x)
    }

    @inlinable func dot(_ v: Vec3) -> Double { x * v.x + y * v.y + z * v.z }

    /// Scales to unit length by multiplying with the reciprocal norm (zero stays zero).
    @inlinable
    mutating func normalize() {
        let norm = dot(self).squareRoot()
        let s = norm > 0.0 ? 1.0 / norm : 0.0
        x *= s; y *= s; z *= s
    }

    @inlinable
    func distanceSquared(_ v: Vec3) -> Double {
        let d = Vec3(x: x - v.x, y: y - v.y, z: z - v.z)
        return d.dot(d)
    }

    /// Local north and east unit directions of the tangent plane at this (non-polar) point.
    @inlinable
    func tangentBasis() -> (north: Vec3, east: Vec3) {
        var north = Vec3.combine(1.0, Vec3(x: 0, y: 0, z: 1), -z, self)
        north.normalize()
        return (north, north.cross(self))
    }
}

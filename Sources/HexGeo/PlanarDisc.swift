import Foundation
import Vocabulary

/// A great-circle disc (centre, radius) tested in the equirectangular plane around its centre, with the great
/// circle asked only for points too close to the edge for the plane to decide.
///
/// Why it is exact: over a span of ρ radians around a centre at latitude φ, the equirectangular distance (cos φ at
/// the centre) differs from the great-circle one by a factor within 1 ± (tan(|φ| + ρ)·ρ + ρ²), so a point whose
/// planar distance is below ρ(1 − ε) is inside and one above ρ(1 + ε) is outside, with ε twice that bound plus 1e-4.
/// Discs wider than 0.01 rad (~64 km), reaching within 0.5° of a pole or with ε ≥ 0.5 always take the great circle.
public struct PlanarDisc: Sendable {
    /// Centre, radians.
    public let center: LatLng
    public let radiusMeters: Double
    let cosLat: Double
    /// Planar distance², radians²: at or below it surely inside (negative: never).
    let insideLimit: Double
    /// Planar distance², radians²: above it surely outside (infinite: never).
    let outsideLimit: Double

    public init(center: LatLng, radiusMeters: Double) {
        self.center = center
        self.radiusMeters = radiusMeters
        cosLat = cos(center.lat)
        let rho = radiusMeters / Geodesy.earthRadiusMeters
        let reach = abs(center.lat) + rho
        let epsilon = rho > 0 && rho <= 0.01 && reach < 89.5 * Double.pi / 180 ? 2 * (tan(reach) * rho + rho * rho) + 1e-4 : 1
        if epsilon < 0.5 {
            insideLimit = (rho * (1 - epsilon)) * (rho * (1 - epsilon))
            outsideLimit = (rho * (1 + epsilon)) * (rho * (1 + epsilon))
        } else {
            insideLimit = -1
            outsideLimit = .infinity
        }
    }

    /// The plane's verdict limits and scale, for a copy of the test kept elsewhere (`planarSquared` below `inside` is
    /// surely inside, above `outside` surely outside; longitude differences are scaled by `cosLat`).
    public var planarLimits: (inside: Double, outside: Double, cosLat: Double) { (insideLimit, outsideLimit, cosLat) }

    /// The squared planar distance from the centre, radians² (longitude the short way round).
    @inline(__always)
    public func planarSquared(_ p: LatLng) -> Double {
        let dLat = p.lat - center.lat
        var dLng = p.lng - center.lng
        if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
        let x = dLng * cosLat
        return dLat * dLat + x * x
    }

    /// Whether the great-circle distance from the centre to `p` is at most the radius.
    @inline(__always)
    public func contains(_ p: LatLng) -> Bool {
        switch classify(p) {
        case .inside: return true
        case .outside: return false
        case .unsure: return Geodesy.distanceMeters(center, p) <= radiusMeters
        }
    }

    /// What the plane alone says about `p`.
    @inline(__always)
    public func classify(_ p: LatLng) -> PlanarVerdict {
        let d2 = planarSquared(p)
        if d2 <= insideLimit { return .inside }
        return d2 > outsideLimit ? .outside : .unsure
    }
}

/// A planar test's answer: surely inside, surely outside, or too close to the edge to say.
public enum PlanarVerdict: Sendable {
    case inside, outside, unsure
}

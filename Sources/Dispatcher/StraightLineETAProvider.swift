#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Vocabulary

/// ETAs from great-circle distance: `distance × detourFactor / speed`. An explicit fallback for
/// tests, benchmarks and engines without a road graph; never chosen silently.
public struct StraightLineETAProvider: ETAProvider {
    /// Assumed travel speed, m/s (default 8.33 m/s = 30 km/h).
    public var speedMetersPerSecond: Double
    /// Road distance over straight-line distance (default 1.3).
    public var detourFactor: Double

    public init(speedMetersPerSecond: Double = 30 / 3.6, detourFactor: Double = 1.3) {
        self.speedMetersPerSecond = speedMetersPerSecond
        self.detourFactor = detourFactor
    }

    /// Seconds for every source × target pair (row-major); `.infinity` for an invalid point or a
    /// non-positive speed. Uses unit vectors and the chord length (2·asin(chord/2) is exact on the sphere).
    public func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        let s = sources.count, t = targets.count
        var out = [Double](repeating: .infinity, count: s * t)
        guard speedMetersPerSecond > 0, speedMetersPerSecond.isFinite, detourFactor.isFinite else { return out }
        let scale = Geodesy.earthRadiusMeters * detourFactor / speedMetersPerSecond
        let tv = targets.map { $0.isValid ? $0.unitVector : SIMD3<Double>(.nan, .nan, .nan) }
        out.withUnsafeMutableBufferPointer { o in
            for (a, p) in sources.enumerated() where p.isValid {
                let pv = p.unitVector
                let base = a * t
                for b in 0..<t {
                    let q = tv[b]
                    guard !q.x.isNaN else { continue }
                    let diff = pv - q
                    let chord = (diff * diff).sum().squareRoot()
                    o[base + b] = 2 * asin(min(1, chord * 0.5)) * scale
                }
            }
        }
        return out
    }
}

extension LatLng {
    /// The point as a unit vector (x, y, z), for fast many-pair distances.
    var unitVector: SIMD3<Double> {
        SIMD3(cos(lat) * cos(lng), cos(lat) * sin(lng), sin(lat))
    }
}

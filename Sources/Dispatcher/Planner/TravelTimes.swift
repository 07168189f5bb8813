#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Travel seconds between location indices, as the route planner reads them (`.infinity` = unreachable).
///
/// Implementations must be cheap (the planner reads a few per candidate insertion) and non-negative.
public protocol TravelTimes: Sendable {
    /// Number of locations; indices run from 0 to `locationCount - 1`.
    var locationCount: Int { get }
    /// Seconds from `from` to `to`.
    func seconds(_ from: Int, _ to: Int) -> Double
    /// Seconds from `from` to `to` for courier `courier` (its index in the instance), whose vehicle may route on
    /// its own road profile; the planner reads every leg of a route through this.
    func seconds(_ from: Int, _ to: Int, courier: Int) -> Double
}

extension TravelTimes {
    /// Every courier travels alike unless an implementation says otherwise.
    @inlinable public func seconds(_ from: Int, _ to: Int, courier: Int) -> Double { seconds(from, to) }
}

/// A full row-major matrix (the `hexfleet plan` input).
public struct MatrixTravelTimes: TravelTimes {
    public let locationCount: Int
    @usableFromInline let values: [Double]
    /// A matrix of `locationCount²` non-negative seconds, row-major.
    public init(locationCount: Int, values: [Double]) { self.locationCount = locationCount; self.values = values }
    @inlinable public func seconds(_ from: Int, _ to: Int) -> Double { values[from * locationCount + to] }
}

/// Straight-line travel at a constant speed between coordinates given in micro-degrees of a local
/// equirectangular projection: for dispatch rounds over thousands of couriers where a full matrix would not fit.
public struct StraightLineTravelTimes: TravelTimes {
    public var locationCount: Int { xMeters.count }
    @usableFromInline let xMeters: [Double]
    @usableFromInline let yMeters: [Double]
    @usableFromInline let secondsPerMeter: Double
    /// Locations as (lat, lng) degrees; `speedMetersPerSecond` over the straight line (Monaco by scooter ≈ 6 m/s
    /// effective); the projection is centred on the first point, fine over a city.
    public init(latLng: [(lat: Double, lng: Double)], speedMetersPerSecond: Double) {
        let lat0 = latLng.first?.lat ?? 0
        let metersPerDegree = 111_195.0
        let cosLat = cos(lat0 * .pi / 180)
        xMeters = latLng.map { $0.lng * metersPerDegree * cosLat }
        yMeters = latLng.map { $0.lat * metersPerDegree }
        secondsPerMeter = 1 / speedMetersPerSecond
    }
    @inlinable public func seconds(_ from: Int, _ to: Int) -> Double {
        let dx = xMeters[from] - xMeters[to], dy = yMeters[from] - yMeters[to]
        return (dx * dx + dy * dy).squareRoot() * secondsPerMeter
    }
}

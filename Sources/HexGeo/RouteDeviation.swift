import Foundation
import Vocabulary

/// Tells when a courier has left its planned path: pure state over a path (a polyline, e.g. a road route) and a
/// sequence of timed positions, with hysteresis so GPS jitter at the threshold fires nothing.
///
/// ```
///            distance > offRouteMeters           for ≥ graceMs (every fix beyond)
///  on route ───────────────────────────▶ pending ─────────────────────────────▶ off route  (fires .offRoute)
///      ▲        fix within offRouteMeters  │                                        │
///      └───────────────────────────────────┘        fix within rejoinMeters         │
///      └────────────────────────────────────────────────────────────────────────────┘  (fires .backOnRoute)
/// ```
/// Distances are to the nearest point of the path (segments straight in latitude/longitude, measured in an
/// equirectangular plane around the fix: fine for the few kilometers a courier strays). Timestamps are the fixes'
/// own; a fix older than the last one seen is ignored.
public struct RouteDeviationDetector: Sendable {
    /// Thresholds of the detector.
    public struct Settings: Sendable, Equatable {
        /// Farther than this from the path counts as away.
        public var offRouteMeters: Double
        /// Away this long (first fix away to the current one) is off route.
        public var graceMs: Int64
        /// Back within this of the path is back on route (≤ `offRouteMeters`: the hysteresis band).
        public var rejoinMeters: Double

        public init(offRouteMeters: Double = 100, graceMs: Int64 = 30_000, rejoinMeters: Double? = nil) {
            self.offRouteMeters = offRouteMeters
            self.graceMs = graceMs
            self.rejoinMeters = min(rejoinMeters ?? offRouteMeters / 2, offRouteMeters)
        }
    }

    /// What a fix changed.
    public enum Event: Sendable, Equatable {
        /// Away from the path for the grace time, as of this fix.
        case offRoute(atMs: Int64, distanceMeters: Double)
        /// Back near the path after having been off route.
        case backOnRoute(atMs: Int64, distanceMeters: Double)
    }

    public let path: [LatLng]
    public let settings: Settings
    /// Off route now (fired and not yet rejoined).
    public private(set) var isOffRoute = false
    /// Time of the first fix of the current excursion beyond `offRouteMeters`, while not yet off route.
    public private(set) var awaySinceMs: Int64?
    private var lastMs = Int64.min

    /// A detector for `path` (one point is a place; an empty path never fires).
    public init(path: [LatLng], settings: Settings) {
        self.path = path
        self.settings = settings
    }

    /// Takes the next fix; answers the event it caused, if any.
    public mutating func observe(_ p: LatLng, atMs: Int64) -> Event? {
        guard !path.isEmpty, atMs >= lastMs else { return nil }
        lastMs = atMs
        let d = distanceMeters(from: p)
        if isOffRoute {
            guard d <= settings.rejoinMeters else { return nil }
            isOffRoute = false
            return .backOnRoute(atMs: atMs, distanceMeters: d)
        }
        guard d > settings.offRouteMeters else {
            awaySinceMs = nil
            return nil
        }
        let since = awaySinceMs ?? atMs
        guard atMs - since >= settings.graceMs else {
            awaySinceMs = since
            return nil
        }
        awaySinceMs = nil
        isOffRoute = true
        return .offRoute(atMs: atMs, distanceMeters: d)
    }

    /// Distance in meters from `p` to the nearest point of the path.
    public func distanceMeters(from p: LatLng) -> Double {
        guard let first = path.first else { return .infinity }
        let frame = LocalFrame(origin: p)
        if path.count == 1 {
            let (x, y) = frame.point(first)
            return (x * x + y * y).squareRoot()
        }
        var best = Double.infinity
        for i in 1..<path.count {
            best = min(best, PlanarSegment.distanceFromOrigin(frame.segmentEnd(from: path[i - 1], to: path[i])))
        }
        return best
    }
}

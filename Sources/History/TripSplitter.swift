import Vocabulary

/// Splits a driver's history into trips and stops. A stop is a run of points that stay within `stopRadiusMeters`
/// of the run's first point for at least `minStopMs` (defaults: 50 m, 3 min); the moving stretches between stops
/// are trips. A trip starts at the last point of the stop before it (or the first point) and ends at the first point
/// of the stop after it (or the last point), so trip and stop times tile the history without gaps.
public struct TripSplitter: Sendable {
    public var stopRadiusMeters: Double
    public var minStopMs: Int64

    public init(stopRadiusMeters: Double = 50, minStopMs: Int64 = 180_000) {
        self.stopRadiusMeters = stopRadiusMeters
        self.minStopMs = minStopMs
    }

    /// A stretch of movement.
    public struct Trip: Sendable, Equatable {
        public var start: HistoryPoint
        public var end: HistoryPoint
        /// Sum of the great-circle distances between consecutive points.
        public var distanceMeters: Double
        public var pointCount: Int
        public var durationMs: Int64 { end.timestampMs - start.timestampMs }
    }

    /// A stay of at least the minimum time within the radius.
    public struct Stop: Sendable, Equatable {
        public var start: HistoryPoint
        public var end: HistoryPoint
        /// The mean position of the stop's points.
        public var center: LatLng
        public var pointCount: Int
        public var durationMs: Int64 { end.timestampMs - start.timestampMs }
    }

    /// Trips and stops of `points` (time order), each list in time order.
    public func split(_ points: [HistoryPoint]) -> (trips: [Trip], stops: [Stop]) {
        guard !points.isEmpty else { return ([], []) }
        let positions = points.map(\.position)
        // Find the stops first: [first, last] index ranges.
        var stopRanges: [ClosedRange<Int>] = []
        var i = 0
        while i < points.count {
            var j = i
            while j + 1 < points.count, Geodesy.distanceMeters(positions[i], positions[j + 1]) <= stopRadiusMeters { j += 1 }
            if points[j].timestampMs - points[i].timestampMs >= minStopMs {
                stopRanges.append(i...j)
                i = j + 1
            } else {
                i += 1
            }
        }
        var stops: [Stop] = []
        for r in stopRanges {
            var lat = 0.0, lng = 0.0
            for k in r {
                lat += positions[k].lat
                lng += positions[k].lng
            }
            let n = Double(r.count)
            stops.append(Stop(start: points[r.lowerBound], end: points[r.upperBound], center: LatLng(lat: lat / n, lng: lng / n),
                              pointCount: r.count))
        }
        // Trips are the stretches between stops, sharing their boundary points.
        var trips: [Trip] = []
        func trip(_ from: Int, _ to: Int) {
            guard to > from, points[to].timestampMs >= points[from].timestampMs else { return }
            var d = 0.0
            for k in from..<to { d += Geodesy.distanceMeters(positions[k], positions[k + 1]) }
            trips.append(Trip(start: points[from], end: points[to], distanceMeters: d, pointCount: to - from + 1))
        }
        var from = 0
        for r in stopRanges {
            trip(from, r.lowerBound)
            from = r.upperBound
        }
        trip(from, points.count - 1)
        return (trips, stops)
    }

    /// The driven distance along `points` (time order): the sum of consecutive great-circle distances.
    public static func distanceMeters(_ points: [HistoryPoint]) -> Double {
        guard points.count > 1 else { return 0 }
        var d = 0.0
        var previous = points[0].position
        for p in points.dropFirst() {
            let here = p.position
            d += Geodesy.distanceMeters(previous, here)
            previous = here
        }
        return d
    }
}

/// Speeds observed per edge and hour of the week (168 buckets, Monday 00:00–01:00 UTC is bucket 0), for departure-time
/// routing: `LiveTraffic` adds every speed observation to the bucket of its ping's timestamp, and `weights(hour:)`
/// turns a bucket into edge durations, each edge's mean observed speed pulled toward its free-flow speed as if
/// `priorObservations` free-flow observations had been made too (an edge seen once barely moves; an edge seen
/// every day of a month is its observed mean).
///
/// Sparse: a bucket holds only the edges observed in it (about 12 bytes each), so memory follows the data, not
/// 168 × edges. Not `Sendable`; owned with its `LiveTraffic` by the loop.
public struct HourOfWeekSpeeds {
    /// Hours in a week.
    public static let bucketCount = 168
    /// Weight of the free-flow speed in the smoothing, in observations.
    public var priorObservations = 5.0

    private struct Tally {
        var sumKmh: Float = 0
        var count: UInt32 = 0
    }
    private var buckets = [[Int32: Tally]](repeating: [:], count: Self.bucketCount)

    public init() {}

    /// The bucket of `timestampMs` (ms since the Unix epoch, UTC): 0 for Monday 00:00–00:59, 167 for Sunday 23:00–23:59.
    public static func bucket(timestampMs: Int64) -> Int {
        // 1970-01-01 was a Thursday: 72 hours after a Monday 00:00.
        let hours = timestampMs >= 0 ? timestampMs / 3_600_000 : (timestampMs - 3_599_999) / 3_600_000
        let h = (hours + 72) % Int64(bucketCount)
        return Int(h < 0 ? h + Int64(bucketCount) : h)
    }

    /// Adds one observation of `kmh` on `edges` at `timestampMs`.
    public mutating func add(kmh: Double, edges: [Int], timestampMs: Int64) {
        let b = Self.bucket(timestampMs: timestampMs)
        for e in edges {
            var t = buckets[b][Int32(e), default: Tally()]
            t.sumKmh += Float(kmh)
            t.count += 1
            buckets[b][Int32(e)] = t
        }
    }

    /// Observations of `edge` in `bucket`.
    public func count(edge: Int, bucket: Int) -> Int { Int(buckets[bucket][Int32(edge)]?.count ?? 0) }

    /// Edges with at least one observation in `bucket`.
    public func observedEdges(bucket: Int) -> Int { buckets[bucket].count }

    /// The smoothed speed of an edge whose free-flow speed is `freeKmh`: (n × mean + k × free) / (n + k).
    public func smoothedKmh(edge: Int, bucket: Int, freeKmh: Double) -> Double {
        guard let t = buckets[bucket][Int32(edge)], t.count > 0 else { return freeKmh }
        let n = Double(t.count)
        return (Double(t.sumKmh) + priorObservations * freeKmh) / (n + priorObservations)
    }

    /// Edge durations (ms) for `bucket` over `graph`: free flow where the bucket saw nothing, smoothed speeds elsewhere.
    /// With `roads` (`RoadGraph.roadOfEdge`), observations were recorded per road and reach every parallel copy of it.
    public func edgeWeights(bucket: Int, graph: RoadGraph, roads: [Int32]? = nil) -> [UInt32] {
        var weights = Array(graph.durationsMs)
        let observed: [(edge: Int, key: Int)] = if let roads {
            (0..<graph.edgeCount).compactMap { buckets[bucket][roads[$0]] == nil ? nil : ($0, Int(roads[$0])) }
        } else {
            buckets[bucket].keys.map { (Int($0), Int($0)) }
        }
        for (e, key) in observed {
            let meters = graph.lengthsMeters[e]
            guard meters > 0 else { continue }
            // The turn penalty is not driving time: the free speed leaves it out, and it is added back unchanged.
            let penalty = graph.turnPenaltyMs(e)
            let freeKmh = meters / (Double(max(1, weights[e] - min(penalty, weights[e]))) / 1000) * 3.6
            weights[e] = OSMImporter.adding(OSMImporter.durationMs(meters, smoothedKmh(edge: key, bucket: bucket, freeKmh: freeKmh)), penalty)
        }
        return weights
    }
}

import Foundation
import HexGeo
import Vocabulary

/// Observed speeds from driver pings, and re-customization of the hierarchy under them.
///
/// **Map matching.** Each driver's pings go through the map matcher's online form (`MapMatcher.step`, the same HMM
/// as `POST /v1/match`, with a lag of one ping): the step from the previous ping to this one is the road path between
/// the candidates the model now believes in, so a ping near a parallel road or a bridge is attributed to the road the
/// driver is actually following. The path's length over the interval gives one speed observation, applied to every
/// edge of that path with exponential smoothing (`alpha`). The matcher's searches are bounded by the distance
/// between the pings, so a ping stays cheap on the loop and a jump across the map is dropped rather than believed.
///
/// **Re-customization.** We keep plain CH and re-contract with the free-flow node order, which skips the ordering
/// phase (most of the contraction time). On Monaco this takes a fraction of a second on a worker thread — well under
/// the 1–4 s ping interval — so customizable CH (CCH) is not needed at city scale; see docs/routing.md.
///
/// Not `Sendable`: owned by the engine's loop thread. `makeCustomization()` copies what a worker needs.
public final class LiveTraffic {
    /// The network observed.
    public let network: RoadNetwork
    /// Smoothing factor of each new observation (0…1).
    public var alpha = 0.3
    /// Pings farther than this from any road are ignored (meters).
    public var maxMatchMeters = 50.0
    /// Observed speeds are clamped to this range (km/h).
    public var speedRangeKmh: ClosedRange<Double> = 3...150
    /// Counters for pings that updated nothing, by reason.
    public private(set) var dropped: [String: Int] = [:]
    /// Number of speed observations applied.
    public private(set) var observations = 0
    /// The same observations by hour of the week, for departure-time weights (`makeCustomization(hourOfWeek:)`).
    public private(set) var hourly = HourOfWeekSpeeds()

    private var observedKmh: [Double]
    /// The road each edge drives (`RoadGraph.roadOfEdge`): speeds are kept per road, so the parallel copies made for
    /// turn costs all learn what a driver on any of them was seen doing.
    private let roadOfEdge: [Int32]
    private var lastPing: [UInt64: (state: MapMatcher.OnlineState, timestampMs: Int64)] = [:]
    private var matcher: MapMatcher
    private var generation = 0

    /// Live speeds over `network`, initially none (free flow everywhere).
    public init(network: RoadNetwork) {
        self.network = network
        observedKmh = [Double](repeating: .nan, count: network.graph.edgeCount)
        roadOfEdge = network.graph.roadOfEdge()
        matcher = MapMatcher(network: network)
    }

    /// The smoothed observed speed of `edge` in km/h, or nil when none was observed.
    public func observedSpeedKmh(edge: Int) -> Double? {
        let v = observedKmh[Int(roadOfEdge[edge])]
        return v.isNaN ? nil : v
    }

    /// The matcher's settings for pings: phone GPS noise of about 10 m, candidates within `maxMatchMeters`.
    private var matchOptions: MapMatcher.Options {
        var options = MapMatcher.Options()
        options.sigmaMeters = 10
        options.radiusMeters = maxMatchMeters
        options.maxCandidates = 12
        return options
    }

    /// Records one ping of `driverId`; returns the number of edges whose speed was updated.
    @discardableResult
    public func observe(driverId: UInt64, position: LatLng, timestampMs: Int64) -> Int {
        var state: MapMatcher.OnlineState?
        var dt = 0.0
        if let previous = lastPing[driverId] {
            dt = Double(timestampMs - previous.timestampMs) / 1000
            guard dt > 0 else { dropped["not_newer", default: 0] += 1; return 0 }
            if dt <= 120 { state = previous.state } else { dropped["gap", default: 0] += 1 }
        }
        let outcome = matcher.step(&state, at: position, options: matchOptions)
        lastPing[driverId] = state.map { ($0, timestampMs) }
        let meters: Double, edges: [Int]
        switch outcome {
        case .started: return 0
        case .offRoad: dropped["off_road", default: 0] += 1; return 0
        case .unreachable: dropped["unmatched", default: 0] += 1; return 0
        case .stationary: dropped["stationary", default: 0] += 1; return 0
        case .moved(let m, let e): meters = m; edges = e
        }
        let kmh = meters / dt * 3.6
        guard kmh <= speedRangeKmh.upperBound * 1.5 else { dropped["implausible", default: 0] += 1; return 0 }
        let clamped = min(max(kmh, speedRangeKmh.lowerBound), speedRangeKmh.upperBound)
        let roads = edges.map { Int(roadOfEdge[$0]) }
        for r in roads {
            let old = observedKmh[r]
            observedKmh[r] = old.isNaN ? clamped : alpha * clamped + (1 - alpha) * old
        }
        hourly.add(kmh: clamped, edges: roads, timestampMs: timestampMs)
        observations += 1
        return edges.count
    }

    /// A self-contained job (weights snapshot and node order) that a worker thread can run.
    public struct Customization: Sendable {
        let graph: RoadGraph
        let edgeWeights: [UInt32]
        let order: [UInt32]
        let generation: Int

        /// Contracts under the snapshot's weights; call off the loop thread.
        public func run() -> RoutingWeights {
            let hierarchy = edgeWeights.withUnsafeBufferPointer { Contractor.contract(graph, weights: $0, order: order) }
            return RoutingWeights(edgeWeights: edgeWeights, hierarchy: hierarchy, generation: generation)
        }
    }

    /// Snapshots live weights (observed speeds where known, free flow elsewhere) for a worker to contract.
    public func makeCustomization() -> Customization {
        let g = network.graph
        var weights = Array(g.durationsMs)
        for e in 0..<g.edgeCount where !observedKmh[Int(roadOfEdge[e])].isNaN {
            // The turn onto the edge costs what it did at free flow; the observed speed times the road.
            weights[e] = OSMImporter.adding(OSMImporter.durationMs(g.lengthsMeters[e], observedKmh[Int(roadOfEdge[e])]), g.turnPenaltyMs(e))
        }
        let rank = network.freeFlow.hierarchy.rank
        var order = [UInt32](repeating: 0, count: rank.count)
        for v in 0..<rank.count { order[Int(rank[v])] = UInt32(v) }
        generation += 1
        return Customization(graph: g, edgeWeights: weights, order: order, generation: generation)
    }

    /// Snapshots the weights of one hour of the week (`HourOfWeekSpeeds.edgeWeights`: observed speeds of that hour
    /// smoothed toward free flow) for a worker to contract with the free-flow order, as for live weights.
    public func makeCustomization(hourOfWeek bucket: Int) -> Customization {
        let b = min(max(bucket, 0), HourOfWeekSpeeds.bucketCount - 1)
        let rank = network.freeFlow.hierarchy.rank
        var order = [UInt32](repeating: 0, count: rank.count)
        for v in 0..<rank.count { order[Int(rank[v])] = UInt32(v) }
        // Generations of hour-of-week weights are negative (-1 - bucket): they never pass for a live customization.
        return Customization(graph: network.graph, edgeWeights: hourly.edgeWeights(bucket: b, graph: network.graph, roads: roadOfEdge), order: order,
                             generation: -1 - b)
    }

    /// Runs a customization on a new thread and hands the new weights to `completion` on that thread
    /// (the engine forwards them to its loop, e.g. with an async wake-up, and swaps them in).
    public func customizeInBackground(completion: @escaping @Sendable (RoutingWeights) -> Void) {
        let job = makeCustomization()
        let thread = Thread { completion(job.run()) }
        thread.name = "hexfleet.routing.customize"
        thread.start()
    }
}

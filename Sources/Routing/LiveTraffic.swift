import Foundation
import HexGeo
import Vocabulary

/// Observed speeds from driver pings, and re-customization of the hierarchy under them.
///
/// **Map matching.** Each ping snaps to the nearest edge (within `maxMatchMeters`). Two consecutive pings of a driver
/// are joined by the shortest road path between their snapped points (a Dijkstra on lengths bounded by the
/// distance a car could cover in the interval, so a ping stays cheap on the loop and a jump across the map is dropped
/// rather than believed); the distance over the time gives one speed observation, applied
/// to every edge of that path with exponential smoothing (`alpha`).
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
    private var lastPing: [UInt64: (snap: Snap, timestampMs: Int64)] = [:]
    private var dijkstra: DijkstraQuery
    private var generation = 0

    /// Live speeds over `network`, initially none (free flow everywhere).
    public init(network: RoadNetwork) {
        self.network = network
        observedKmh = [Double](repeating: .nan, count: network.graph.edgeCount)
        dijkstra = DijkstraQuery(graph: network.graph, weights: network.graph.lengthsMeters.map { UInt32(min(4e9, $0 * 1000)) })
    }

    /// The smoothed observed speed of `edge` in km/h, or nil when none was observed.
    public func observedSpeedKmh(edge: Int) -> Double? {
        let v = observedKmh[edge]
        return v.isNaN ? nil : v
    }

    /// Records one ping of `driverId`; returns the number of edges whose speed was updated.
    @discardableResult
    public func observe(driverId: UInt64, position: LatLng, timestampMs: Int64) -> Int {
        guard let snap = network.snapIndex.snap(position), snap.distanceMeters <= maxMatchMeters else {
            dropped["off_road", default: 0] += 1
            lastPing[driverId] = nil
            return 0
        }
        defer { lastPing[driverId] = (snap, timestampMs) }
        guard let previous = lastPing[driverId] else { return 0 }
        let dt = Double(timestampMs - previous.timestampMs) / 1000
        guard dt > 0 else { dropped["not_newer", default: 0] += 1; return 0 }
        guard dt <= 120 else { dropped["gap", default: 0] += 1; return 0 }
        // No car covers more than 1.5 × the top speed in dt, so the path search never looks farther (keeps a ping cheap).
        let reachMeters = min(3_000, dt * speedRangeKmh.upperBound * 1.5 / 3.6 + 30)
        guard let (meters, edges) = match(from: previous.snap, to: snap, maxMeters: reachMeters) else {
            dropped["unmatched", default: 0] += 1
            return 0
        }
        guard meters >= 1 else { dropped["stationary", default: 0] += 1; return 0 }
        let kmh = meters / dt * 3.6
        guard kmh <= speedRangeKmh.upperBound * 1.5 else { dropped["implausible", default: 0] += 1; return 0 }
        let clamped = min(max(kmh, speedRangeKmh.lowerBound), speedRangeKmh.upperBound)
        for e in edges {
            let old = observedKmh[e]
            observedKmh[e] = old.isNaN ? clamped : alpha * clamped + (1 - alpha) * old
        }
        hourly.add(kmh: clamped, edges: edges, timestampMs: timestampMs)
        observations += 1
        return edges.count
    }

    /// Road distance and the edges driven between two snapped points, or nil when no short path joins them.
    private func match(from a: Snap, to b: Snap, maxMeters: Double) -> (Double, [Int])? {
        let g = network.graph
        var best: (Double, [Int])?
        for x in a.edges {
            for y in b.edges where y.edge == x.edge && y.fraction >= x.fraction {
                let m = (y.fraction - x.fraction) * g.lengthsMeters[x.edge]
                if best == nil || m < best!.0 { best = (m, [x.edge]) }
            }
        }
        if best != nil { return best }
        let sources = a.edges.map { (node: Int(g.forwardHeads[$0.edge]), costMs: UInt64((1 - $0.fraction) * g.lengthsMeters[$0.edge] * 1000)) }
        let limit = UInt64(maxMeters * 1000)   // millimeters
        dijkstra.run(sources: sources, maxCost: limit)
        for y in b.edges {
            let tail = network.snapIndex.tail(of: y.edge)
            guard let d = dijkstra.dist(tail), d <= limit else { continue }
            let meters = Double(d) / 1000 + y.fraction * g.lengthsMeters[y.edge]
            if best == nil || meters < best!.0, let path = dijkstra.pathEdges(to: tail) {
                let start = a.edges.first { x in Int(g.forwardHeads[x.edge]) == (path.isEmpty ? tail : snapTail(path[0])) }
                best = (meters, (start.map { [$0.edge] } ?? []) + path + [y.edge])
            }
        }
        return best
    }

    private func snapTail(_ edge: Int) -> Int { network.snapIndex.tail(of: edge) }

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
        for e in 0..<g.edgeCount where !observedKmh[e].isNaN {
            weights[e] = OSMImporter.durationMs(g.lengthsMeters[e], observedKmh[e])
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
        return Customization(graph: network.graph, edgeWeights: hourly.edgeWeights(bucket: b, graph: network.graph), order: order,
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

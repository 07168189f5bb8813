import Dispatcher
import Routing
import Vocabulary

/// Road travel seconds between a dispatch round's locations, for `StackingRound`: each location is snapped once
/// to its nearest road node, and a pair's time is one contraction-hierarchy query between the two nodes, made the
/// first time the planner reads it and cached by node pair (orders from one restaurant share their pickup's node).
///
/// Why lazy pairs and not a matrix: a round over 2,000 couriers and 500 orders has thousands of locations, so a
/// full matrix would be millions of cells, while the planner reads only the legs around its candidate insertions
/// (tens of thousands); a Monaco CH query costs a few microseconds. Nearest-courier selection reads straight lines
/// (`StraightLineTravelTimes` over the same locations), never this.
///
/// `@unchecked Sendable`: the cache and the query workspace are mutated by `seconds`, and a round reads it from
/// the one worker thread that runs the round; nothing else holds it.
final class RoadTravelTimes: TravelTimes, @unchecked Sendable {
    let locationCount: Int
    private let nodes: [Int32]
    private var query: RouteQuery
    private var cache: [UInt64: Double] = [:]
    private let speedFactor: Double
    /// Road queries made (cache misses), for the benchmark and stats.
    private(set) var queries = 0

    /// Snaps `points` on `network`; a point farther than the snap radius from any road is unreachable.
    /// Times come from `weights` (the live ones in the engine) divided by `speedFactor`.
    init(points: [LatLng], network: RoadNetwork, weights: RoutingWeights, speedFactor: Double = 1) {
        query = network.makeQuery(weights: weights)
        let graph = network.graph, snaps = network.snapIndex
        var nodes = [Int32](repeating: -1, count: points.count)
        var memo: [LatLng: Int32] = [:]
        for (i, p) in points.enumerated() {
            if let known = memo[p] { nodes[i] = known; continue }
            if LatLng.isValidDegrees(lat: p.latDegrees, lng: p.lngDegrees), let snap = snaps.snap(p), let first = snap.edges.first {
                // The nearer end of the snapped edge: dispatch times are node to node (an edge's length at most off).
                let node = first.fraction < 0.5 ? snaps.tail(of: first.edge) : Int(graph.forwardHeads[first.edge])
                nodes[i] = Int32(node)
            }
            memo[p] = nodes[i]
        }
        self.nodes = nodes
        locationCount = points.count
        self.speedFactor = speedFactor > 0 && speedFactor.isFinite ? speedFactor : 1
        cache.reserveCapacity(4_096)
    }

    func seconds(_ from: Int, _ to: Int) -> Double {
        if from == to { return 0 }
        let a = nodes[from], b = nodes[to]
        if a < 0 || b < 0 { return .infinity }
        if a == b { return 0 }
        let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
        if let known = cache[key] { return known }
        queries += 1
        let value = query.durationMs(fromNode: Int(a), toNode: Int(b)).map { Double($0) / 1000 / speedFactor } ?? .infinity
        cache[key] = value
        return value
    }
}

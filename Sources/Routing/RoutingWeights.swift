import Synchronization

/// What a search minimises: travel time (the default) or road length.
public enum RoutingMetric: String, Sendable, CaseIterable {
    /// Fastest routes; edge weights in milliseconds.
    case time
    /// Shortest routes; edge weights in millimetres.
    case distance

    /// Parses the `optimize` parameter of the API and CLI (`time` or `distance`).
    public init?(name: String) { self.init(rawValue: name) }
}

/// One customization of the road graph: a weight per forward edge and the hierarchy built for it.
///
/// Time weights are milliseconds (free flow, or live speeds); the network's distance weights are millimetres. Integers
/// make sums exact, so the hierarchy, Dijkstra and the exported CSV agree to the last digit.
///
/// Immutable and `Sendable`: the free-flow instance lives as long as the network; a live instance is built on a worker
/// thread and swapped in whole, so a query holding the old one finishes consistently. The per-arc sums that matrices
/// need for their second metric are computed on first use and kept here (see `ArcSums`).
public final class RoutingWeights: Sendable {
    /// Weight of each forward edge of the graph: milliseconds for `.time`, millimetres for `.distance`.
    public let edgeWeights: [UInt32]
    /// The hierarchy contracted under `edgeWeights`.
    public let hierarchy: ContractionHierarchy
    /// A counter that grows with each customization (0 = free flow).
    public let generation: Int
    /// What `edgeWeights` measure.
    public let metric: RoutingMetric
    /// Lazily built: meters per arc of `hierarchy` (time weights), and milliseconds under these time weights per arc
    /// of the network's distance hierarchy.
    private let arcLengths = Mutex<ArcSums?>(nil)
    private let distanceArcDurations = Mutex<ArcSums?>(nil)
    private let sweep = Mutex<[UInt32]?>(nil)

    init(edgeWeights: [UInt32], hierarchy: ContractionHierarchy, generation: Int, metric: RoutingMetric = .time) {
        self.edgeWeights = edgeWeights
        self.hierarchy = hierarchy
        self.generation = generation
        self.metric = metric
    }

    /// Meters of road per arc of this (time) hierarchy, built on first use (one pass over the arcs).
    func lengthsPerArc(graph: RoadGraph) -> ArcSums {
        arcLengths.withLock { cached in
            if let cached { return cached }
            let sums = ArcSums(hierarchy: hierarchy, graph: graph, searchWeights: edgeWeights) { graph.lengthsMeters[$0] }
            cached = sums
            return sums
        }
    }

    /// Milliseconds under these time weights per arc of `distance` (the network's distance weights), built on first use.
    func durationsPerArc(of distance: RoutingWeights, graph: RoadGraph) -> ArcSums {
        distanceArcDurations.withLock { cached in
            if let cached { return cached }
            let ms = edgeWeights
            let sums = ArcSums(hierarchy: distance.hierarchy, graph: graph, searchWeights: distance.edgeWeights) { Double(ms[$0]) }
            cached = sums
            return sums
        }
    }

    /// Nodes by decreasing rank, the order of the downward sweep of a one-to-all search; built on first use.
    func nodesByDecreasingRank() -> [UInt32] {
        sweep.withLock { cached in
            if let cached { return cached }
            let rank = hierarchy.rank
            var order = [UInt32](repeating: 0, count: rank.count)
            for v in 0..<rank.count { order[rank.count - 1 - Int(rank[v])] = UInt32(v) }
            cached = order
            return order
        }
    }
}

/// A second metric summed over every arc of a hierarchy: for each up and down arc, the total of a per-edge value
/// (meters, or milliseconds) along the original edges the arc stands for.
///
/// Parallel edges and shortcut halves are chosen exactly as path unpacking chooses them (the cheapest under the search
/// weights, the first on ties), so a matrix cell's second metric equals that of the unpacked one-to-one path.
struct ArcSums: Sendable {
    let up: [Double]
    let down: [Double]

    init(hierarchy h: ContractionHierarchy, graph: RoadGraph, searchWeights: [UInt32], value: (Int) -> Double) {
        let n = h.nodeCount
        var up = [Double](repeating: 0, count: h.upHeads.count)
        var down = [Double](repeating: 0, count: h.downHeads.count)
        var byRank = [UInt32](repeating: 0, count: n)
        for v in 0..<n { byRank[Int(h.rank[v])] = UInt32(v) }
        searchWeights.withUnsafeBufferPointer { w in
            func edgeValue(_ a: Int, _ b: Int) -> Double {
                graph.cheapestEdge(from: a, to: b, weights: w).map(value) ?? 0
            }
            // A shortcut's halves are arcs stored at its middle node, which ranks below both ends: lowest ranks first.
            for vv in byRank {
                let v = Int(vv)
                for a in h.up(v) {
                    let x = Int(h.upHeads[a])
                    let m = h.upMiddles[a]
                    if m == ContractionHierarchy.noMiddle { up[a] = edgeValue(v, x); continue }
                    up[a] = Self.half(h, down: true, at: Int(m), naming: v, sums: down) + Self.half(h, down: false, at: Int(m), naming: x, sums: up)
                }
                for a in h.down(v) {
                    let x = Int(h.downHeads[a])
                    let m = h.downMiddles[a]
                    if m == ContractionHierarchy.noMiddle { down[a] = edgeValue(x, v); continue }
                    down[a] = Self.half(h, down: true, at: Int(m), naming: x, sums: down) + Self.half(h, down: false, at: Int(m), naming: v, sums: up)
                }
            }
        }
        self.up = up
        self.down = down
    }

    /// The sum of the cheapest arc at `m` naming `x` (a down arc `x→m` or an up arc `m→x`), as `unpack` picks it.
    private static func half(_ h: ContractionHierarchy, down isDown: Bool, at m: Int, naming x: Int, sums: [Double]) -> Double {
        var best = UInt32.max, found = -1
        if isDown {
            for i in h.down(m) where Int(h.downHeads[i]) == x && (found < 0 || h.downWeights[i] < best) { best = h.downWeights[i]; found = i }
        } else {
            for i in h.up(m) where Int(h.upHeads[i]) == x && (found < 0 || h.upWeights[i] < best) { best = h.upWeights[i]; found = i }
        }
        return found < 0 ? 0 : sums[found]
    }
}

import HexGeo
import Vocabulary

/// One-to-all search on a `ContractionHierarchy`: PHAST (Delling, Goldberg, Nowatzyk, Werneck 2011).
///
/// An upward Dijkstra from the sources settles their search space; one linear sweep over all nodes in decreasing
/// rank then relaxes every down arc into its lower end, which leaves the exact cost of every node. The sweep reads
/// arcs in a fixed order with no queue, so it costs a few arc visits per node — far below one query per node or a
/// Dijkstra over the whole graph. Owns its scratch (distances, heap); one per thread.
public struct OneToAllSearch {
    /// The weights (and hierarchy) searched.
    public let weights: RoutingWeights
    private let sweepOrder: [UInt32]
    private var distance: [UInt64]
    private var heap: IndexedMinHeap

    /// A search over `weights`' hierarchy.
    public init(weights: RoutingWeights) {
        self.weights = weights
        sweepOrder = weights.nodesByDecreasingRank()
        distance = [UInt64](repeating: .max, count: weights.hierarchy.nodeCount)
        heap = IndexedMinHeap(capacity: weights.hierarchy.nodeCount)
    }

    /// Computes the cost from the sources (each a node and its initial cost) to every node; read it with `cost(of:)`.
    public mutating func run<S: Sequence>(sources: S) where S.Element == (Int, UInt64) {
        let h = weights.hierarchy
        search(seeds: sources, climb: (h.upOffsets, h.upHeads, h.upWeights), sweep: (h.downOffsets, h.downHeads, h.downWeights))
    }

    /// Computes the cost from every node to the targets (each a node and the cost from it onwards), the reverse of
    /// `run(sources:)`: the upward search climbs down arcs (their tails are the nodes that reach the target), and the
    /// sweep relaxes each node's up arcs, whose heads ranked higher are final by then. Read it with `cost(of:)`.
    public mutating func runReverse<S: Sequence>(targets: S) where S.Element == (Int, UInt64) {
        let h = weights.hierarchy
        search(seeds: targets, climb: (h.downOffsets, h.downHeads, h.downWeights), sweep: (h.upOffsets, h.upHeads, h.upWeights))
    }

    /// One arc direction of the hierarchy: per-node offsets into heads and weights.
    private typealias Arcs = (offsets: UnsafeBufferPointer<UInt32>, heads: UnsafeBufferPointer<UInt32>,
                              weights: UnsafeBufferPointer<UInt32>)

    /// PHAST in one direction: a Dijkstra from the seeds over `climb` arcs, then one sweep in decreasing rank that
    /// relaxes each node's `sweep` arcs from their (higher-ranked, already final) heads.
    private mutating func search<S: Sequence>(seeds: S, climb: Arcs, sweep: Arcs) where S.Element == (Int, UInt64) {
        for i in distance.indices { distance[i] = .max }
        heap.clear()
        for (v, c) in seeds where c < distance[v] {
            distance[v] = c
            heap.pushOrDecrease(v, key: c)
        }
        while !heap.isEmpty {
            let (u, d) = heap.popMin()
            for a in Int(climb.offsets[u])..<Int(climb.offsets[u + 1]) {
                let x = Int(climb.heads[a])
                let nd = d + UInt64(climb.weights[a])
                if nd < distance[x] {
                    distance[x] = nd
                    heap.pushOrDecrease(x, key: nd)
                }
            }
        }
        distance.withUnsafeMutableBufferPointer { dist in
            for vv in sweepOrder {
                let v = Int(vv)
                var best = dist[v]
                for a in Int(sweep.offsets[v])..<Int(sweep.offsets[v + 1]) {
                    let dx = dist[Int(sweep.heads[a])]
                    if dx != .max, dx + UInt64(sweep.weights[a]) < best { best = dx + UInt64(sweep.weights[a]) }
                }
                dist[v] = best
            }
        }
    }

    /// The cost of node `v` found by the last run (milliseconds for time weights), nil when unreachable.
    @inline(__always)
    public func cost(of v: Int) -> UInt64? { distance[v] == .max ? nil : distance[v] }

    /// Calls `body` for every node whose cost in the last run is at most `limit`.
    public func forEachNode(within limit: UInt64, _ body: (_ node: Int, _ cost: UInt64) -> Void) {
        for v in distance.indices where distance[v] <= limit { body(v, distance[v]) }
    }
}

/// A road node reached by a one-to-all search, with its travel time.
public struct ReachableNode: Sendable, Equatable {
    /// Graph node id.
    public var node: Int
    /// Seconds from the origin under the query's time weights.
    public var seconds: Double
}

extension RouteQuery {
    /// Every graph node reachable from `origin` (snapped onto the nearest road) within `maxSeconds` under the query's
    /// time weights (`weights`, whatever `optimize` is), with its travel time: a one-to-all search, not a query per
    /// node. Throws `badInput` for an invalid coordinate or a negative or non-finite `maxSeconds`, `noRoad` when no
    /// road is near.
    public mutating func reachable(from origin: LatLng, withinSeconds maxSeconds: Double) throws(RoutingError) -> [ReachableNode] {
        try reachable(from: snap(origin), withinSeconds: maxSeconds)
    }

    /// `reachable(from:withinSeconds:)` from an already snapped point.
    public mutating func reachable(from origin: Snap, withinSeconds maxSeconds: Double) throws(RoutingError) -> [ReachableNode] {
        guard maxSeconds.isFinite, maxSeconds >= 0 else { throw RoutingError(.badInput, "maxSeconds must be a finite number ≥ 0") }
        let limit = UInt64(min(maxSeconds * 1000, Double(UInt64.max / 2)))
        var out: [ReachableNode] = []
        runOneToAll(from: origin).forEachNode(within: limit) { node, ms in
            out.append(ReachableNode(node: node, seconds: Double(ms) / 1000))
        }
        return out
    }

    /// The isochrone of `origin` as H3 cells at `resolution`, ascending: every cell at least half of whose road
    /// nodes are reachable within `maxSeconds`. A cell straddling the limit (a fast road beside a slow one, a
    /// one-way's far side) goes with the majority of its nodes, which keeps both kinds of error few. Throws like
    /// `reachable(from:withinSeconds:)`, and `badInput` for a resolution outside 0…15.
    public mutating func isochroneCells(from origin: LatLng, withinSeconds maxSeconds: Double, resolution: Int) throws(RoutingError) -> [H3Cell] {
        guard let grouping = network.nodeCells(resolution: resolution) else { throw RoutingError(.badInput, "resolution must be 0…15") }
        guard maxSeconds.isFinite, maxSeconds >= 0 else { throw RoutingError(.badInput, "maxSeconds must be a finite number ≥ 0") }
        let search = runOneToAll(from: try snap(origin))
        var reached = [UInt32](repeating: 0, count: grouping.cells.count)
        search.forEachNode(within: UInt64(min(maxSeconds * 1000, Double(UInt64.max / 2)))) { node, _ in
            reached[Int(grouping.cellIndexOfNode[node])] += 1
        }
        var out: [H3Cell] = []
        for i in reached.indices where reached[i] > 0 && 2 * reached[i] >= grouping.nodeCounts[i] { out.append(grouping.cells[i]) }
        return out
    }

    /// The cells at `resolution` (ascending) of the road nodes from which `destination` is reached within `maxSeconds`
    /// on the query's time weights: the reverse one-to-all search, so one-way streets count the way a driver must
    /// take them to get there (an arrival area), where `isochroneCells(from:…)` counts the way out. Every cell holding
    /// a node that reaches it is listed. Throws like `isochroneCells(from:withinSeconds:resolution:)`.
    public mutating func arrivalCells(to destination: LatLng, withinSeconds maxSeconds: Double, resolution: Int) throws(RoutingError) -> [H3Cell] {
        guard let grouping = network.nodeCells(resolution: resolution) else { throw RoutingError(.badInput, "resolution must be 0…15") }
        guard maxSeconds.isFinite, maxSeconds >= 0 else { throw RoutingError(.badInput, "maxSeconds must be a finite number ≥ 0") }
        let search = runAllToOne(to: try snap(destination))
        var reached = [Bool](repeating: false, count: grouping.cells.count)
        search.forEachNode(within: UInt64(min(maxSeconds * 1000, Double(UInt64.max / 2)))) { node, _ in
            reached[Int(grouping.cellIndexOfNode[node])] = true
        }
        var out: [H3Cell] = []
        for i in reached.indices where reached[i] { out.append(grouping.cells[i]) }
        return out
    }

    /// Runs the all-to-one search to a snapped point on the time weights (the cost of reaching it from every node)
    /// and returns it for reading costs: a node reaches the point through an edge it lies on, driving to the edge's
    /// tail and then the snapped fraction of the edge.
    public mutating func runAllToOne(to destination: Snap) -> OneToAllSearch {
        var search = takeOneToAll()
        let g = network.graph, w = weights
        search.runReverse(targets: destination.edges.map {
            (network.snapIndex.tail(of: $0.edge), UInt64(w.endCost($0.edge, fraction: $0.fraction, graph: g).rounded()))
        })
        keepOneToAll(search)
        return search
    }

    /// Runs the one-to-all search from a snapped point on the time weights and returns it for reading costs.
    public mutating func runOneToAll(from origin: Snap) -> OneToAllSearch {
        var search = takeOneToAll()
        let g = network.graph, w = weights
        search.run(sources: origin.edges.lazy.map {
            (Int(g.forwardHeads[$0.edge]), UInt64(w.startCost($0.edge, fraction: $0.fraction, graph: g).rounded()))
        })
        keepOneToAll(search)
        return search
    }
}

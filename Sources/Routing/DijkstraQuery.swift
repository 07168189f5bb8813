/// Plain Dijkstra on a `RoadGraph`: the slow, obviously right twin of the hierarchy, and the baseline in benchmarks.
///
/// Owns its scratch (distances with visit stamps, a heap), so a query allocates nothing; one per thread.
public struct DijkstraQuery {
    /// The graph searched.
    public let graph: RoadGraph
    private let weights: [UInt32]
    private var distance: [UInt64]
    private var stamp: [UInt32]
    private var current: UInt32 = 0
    private var heap: IndexedMinHeap
    private var parentEdge: [UInt32]

    /// A query over `graph` with its free-flow durations, or with `weights` (one per edge, milliseconds).
    public init(graph: RoadGraph, weights: [UInt32]? = nil) {
        self.graph = graph
        self.weights = weights ?? Array(graph.durationsMs)
        distance = [UInt64](repeating: .max, count: graph.nodeCount)
        stamp = [UInt32](repeating: 0, count: graph.nodeCount)
        heap = IndexedMinHeap(capacity: graph.nodeCount)
        parentEdge = [UInt32](repeating: .max, count: graph.nodeCount)
    }

    /// The fastest duration in milliseconds from `source` to `target`, or nil when unreachable.
    public mutating func durationMs(from source: Int, to target: Int) -> UInt64? {
        run(sources: [(source, 0)], stopAt: target)
        return dist(target)
    }

    /// Runs Dijkstra from several sources with initial costs; stops early once `stopAt` is settled.
    ///
    /// - Parameter maxCost: nodes beyond this cost are not expanded.
    public mutating func run(sources: [(node: Int, costMs: UInt64)], stopAt: Int? = nil, maxCost: UInt64 = .max) {
        current &+= 1
        if current == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            current = 1
        }
        heap.clear()
        for (v, c) in sources where dist(v) ?? .max > c {
            stamp[v] = current
            distance[v] = c
            parentEdge[v] = .max
            heap.pushOrDecrease(v, key: c)
        }
        while !heap.isEmpty {
            let (u, d) = heap.popMin()
            if u == stopAt || d > maxCost { break }
            for e in graph.outgoing(u) {
                let v = Int(graph.forwardHeads[e])
                let nd = d + UInt64(weights[e])
                if stamp[v] != current || nd < distance[v] {
                    stamp[v] = current
                    distance[v] = nd
                    parentEdge[v] = UInt32(e)
                    heap.pushOrDecrease(v, key: nd)
                }
            }
        }
    }

    /// The edges of the path the last run found to `v` (in travel order), or nil if `v` was not reached.
    public func pathEdges(to v: Int) -> [Int]? {
        guard dist(v) != nil else { return nil }
        var edges: [Int] = []
        var x = v
        while parentEdge[x] != .max {
            let e = Int(parentEdge[x])
            edges.append(e)
            // The tail of e: search the backward CSR of x for the entry naming e.
            var tail = -1
            for i in Int(graph.backwardOffsets[x])..<Int(graph.backwardOffsets[x + 1]) where Int(graph.backwardEdges[i]) == e {
                tail = Int(graph.backwardTails[i])
            }
            guard tail >= 0, edges.count <= graph.nodeCount else { return nil }
            x = tail
        }
        return edges.reversed()
    }

    /// The distance found for `v` by the last run, or nil if it was not reached.
    public func dist(_ v: Int) -> UInt64? { stamp[v] == current ? distance[v] : nil }
}

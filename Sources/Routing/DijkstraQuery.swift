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

    /// A query over `graph` with its free-flow durations, or with `weights` (one per edge, milliseconds).
    public init(graph: RoadGraph, weights: [UInt32]? = nil) {
        self.graph = graph
        self.weights = weights ?? Array(graph.durationsMs)
        distance = [UInt64](repeating: .max, count: graph.nodeCount)
        stamp = [UInt32](repeating: 0, count: graph.nodeCount)
        heap = IndexedMinHeap(capacity: graph.nodeCount)
    }

    /// The fastest duration in milliseconds from `source` to `target`, or nil when unreachable.
    public mutating func durationMs(from source: Int, to target: Int) -> UInt64? {
        run(sources: [(source, 0)], stopAt: target)
        return dist(target)
    }

    /// Runs Dijkstra from several sources with initial costs; stops early once `stopAt` is settled.
    public mutating func run(sources: [(node: Int, costMs: UInt64)], stopAt: Int? = nil) {
        current &+= 1
        if current == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            current = 1
        }
        heap.clear()
        for (v, c) in sources where dist(v) ?? .max > c {
            stamp[v] = current
            distance[v] = c
            heap.pushOrDecrease(v, key: c)
        }
        while !heap.isEmpty {
            let (u, d) = heap.popMin()
            if u == stopAt { break }
            for e in graph.outgoing(u) {
                let v = Int(graph.forwardHeads[e])
                let nd = d + UInt64(weights[e])
                if stamp[v] != current || nd < distance[v] {
                    stamp[v] = current
                    distance[v] = nd
                    heap.pushOrDecrease(v, key: nd)
                }
            }
        }
    }

    /// The distance found for `v` by the last run, or nil if it was not reached.
    public func dist(_ v: Int) -> UInt64? { stamp[v] == current ? distance[v] : nil }
}

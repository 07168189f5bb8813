/// Every node reachable from a point within a time budget: Dijkstra over the forward edges, stopped at the budget.
/// The minimal one-to-all search drive-time fences need (branch i19); routing's isochrone search (branch i22) does
/// the same job and should replace it when the two meet.
///
/// - Complexity: O((V' + E') log V') for the V' nodes and E' edges within the budget; allocates its answer and a
///   heap sized to the graph.
public enum BoundedDijkstra {
    /// Nodes reachable within `maxMs` from `snap` (a point snapped onto edges), with their times in ms.
    /// Starts at each snapped edge's head, after the rest of that edge's time (a two-way road snaps to both of its
    /// directed edges, so both ends are reached).
    public static func reachable(graph: RoadGraph, weightsMs: [UInt32], from snap: Snap,
                                 maxMs: UInt32) -> [(node: Int, ms: UInt32)] {
        var heap = IndexedMinHeap(capacity: graph.nodeCount)
        var best: [Int: UInt64] = [:]
        for (edge, fraction) in snap.edges where edge < weightsMs.count {
            let head = Int(graph.forwardHeads[edge])
            let rest = UInt64((1 - min(1, max(0, fraction))) * Double(weightsMs[edge]))
            if rest <= UInt64(maxMs), rest < best[head, default: .max] {
                best[head] = rest
                heap.pushOrDecrease(head, key: rest)
            }
        }
        var out: [(node: Int, ms: UInt32)] = []
        while !heap.isEmpty {
            let (v, d) = heap.popMin()
            out.append((v, UInt32(d)))
            for e in graph.outgoing(v) {
                let w = Int(graph.forwardHeads[e])
                let nd = d + UInt64(weightsMs[e])
                guard nd <= UInt64(maxMs), nd < best[w, default: .max] else { continue }
                best[w] = nd
                heap.pushOrDecrease(w, key: nd)
            }
        }
        return out
    }
}

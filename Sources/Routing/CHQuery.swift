/// Point-to-point search on a `ContractionHierarchy`: bidirectional upward Dijkstra with stall-on-demand.
///
/// Owns its scratch (distances with visit stamps, parents, two heaps), so a distance query allocates nothing; make
/// one per thread. Sources and targets may be several nodes with initial costs (a snapped point reaches both ends of
/// its edge).
public struct CHQuery {
    /// The hierarchy searched.
    public let hierarchy: ContractionHierarchy
    private var forward: SearchSide
    private var backward: SearchSide
    private var current: UInt32 = 0
    /// The node where the last successful search met, if any.
    public private(set) var meetingNode: Int?

    struct SearchSide {
        var distance: [UInt64]
        var stamp: [UInt32]
        var parent: [UInt32]
        var parentArc: [UInt32]
        var heap: IndexedMinHeap
        init(n: Int) {
            distance = [UInt64](repeating: 0, count: n)
            stamp = [UInt32](repeating: 0, count: n)
            parent = [UInt32](repeating: .max, count: n)
            parentArc = [UInt32](repeating: .max, count: n)
            heap = IndexedMinHeap(capacity: n)
        }
        @inline(__always) func dist(_ v: Int, _ current: UInt32) -> UInt64 { stamp[v] == current ? distance[v] : .max }
    }

    /// A query over `hierarchy`.
    public init(hierarchy: ContractionHierarchy) {
        self.hierarchy = hierarchy
        forward = SearchSide(n: hierarchy.nodeCount)
        backward = SearchSide(n: hierarchy.nodeCount)
    }

    /// The fastest duration in milliseconds from node `source` to node `target`, or nil when unreachable.
    public mutating func durationMs(from source: Int, to target: Int) -> UInt64? {
        run(sources: CollectionOfOne((source, 0)), targets: CollectionOfOne((target, 0)))
    }

    /// The fastest duration in milliseconds from any source (with its initial cost) to any target (plus its final cost).
    @discardableResult
    public mutating func run<S: Collection, T: Collection>(sources: S, targets: T) -> UInt64?
    where S.Element == (Int, UInt64), T.Element == (Int, UInt64) {
        current &+= 1
        if current == 0 {
            for i in forward.stamp.indices { forward.stamp[i] = 0; backward.stamp[i] = 0 }
            current = 1
        }
        let cur = current
        forward.heap.clear()
        backward.heap.clear()
        meetingNode = nil
        for (v, c) in sources where c < forward.dist(v, cur) {
            forward.stamp[v] = cur; forward.distance[v] = c; forward.parent[v] = .max
            forward.heap.pushOrDecrease(v, key: c)
        }
        for (v, c) in targets where c < backward.dist(v, cur) {
            backward.stamp[v] = cur; backward.distance[v] = c; backward.parent[v] = .max
            backward.heap.pushOrDecrease(v, key: c)
        }
        var best = UInt64.max
        var meet = -1
        let h = hierarchy
        while true {
            let fMin = forward.heap.minKey, bMin = backward.heap.minKey
            let goForward: Bool
            if fMin < best && fMin <= bMin { goForward = true }
            else if bMin < best { goForward = false }
            else if fMin < best { goForward = true }
            else { break }
            if goForward {
                let (u, d) = forward.heap.popMin()
                let other = backward.dist(u, cur)
                if other != .max, d + other < best { best = d + other; meet = u }
                // Stall: a higher node reaches u more cheaply through its down arc x→u.
                var stalled = false
                for a in h.down(u) {
                    let x = Int(h.downHeads[a])
                    let dx = forward.dist(x, cur)
                    if dx != .max, dx + UInt64(h.downWeights[a]) < d { stalled = true; break }
                }
                if stalled { continue }
                for a in h.up(u) {
                    let x = Int(h.upHeads[a])
                    let nd = d + UInt64(h.upWeights[a])
                    if nd < forward.dist(x, cur) {
                        forward.stamp[x] = cur; forward.distance[x] = nd
                        forward.parent[x] = UInt32(u); forward.parentArc[x] = UInt32(a)
                        forward.heap.pushOrDecrease(x, key: nd)
                    }
                }
            } else {
                let (u, d) = backward.heap.popMin()
                let other = forward.dist(u, cur)
                if other != .max, d + other < best { best = d + other; meet = u }
                var stalled = false
                for a in h.up(u) {
                    let x = Int(h.upHeads[a])
                    let dx = backward.dist(x, cur)
                    if dx != .max, dx + UInt64(h.upWeights[a]) < d { stalled = true; break }
                }
                if stalled { continue }
                for a in h.down(u) {
                    let x = Int(h.downHeads[a])
                    let nd = d + UInt64(h.downWeights[a])
                    if nd < backward.dist(x, cur) {
                        backward.stamp[x] = cur; backward.distance[x] = nd
                        backward.parent[x] = UInt32(u); backward.parentArc[x] = UInt32(a)
                        backward.heap.pushOrDecrease(x, key: nd)
                    }
                }
            }
        }
        guard meet >= 0 else { return nil }
        meetingNode = meet
        return best
    }

    /// The last successful search's chosen source and target and the sum of `up`/`down` (a value per up and down
    /// arc, `ArcSums`) over its packed path: the second metric of the route without unpacking it.
    func packedPathSum(up: [Double], down: [Double]) -> (source: Int, target: Int, sum: Double)? {
        guard let m = meetingNode else { return nil }
        var sum = 0.0
        var v = m
        while forward.parent[v] != .max {
            sum += up[Int(forward.parentArc[v])]
            v = Int(forward.parent[v])
        }
        let source = v
        v = m
        while backward.parent[v] != .max {
            sum += down[Int(backward.parentArc[v])]
            v = Int(backward.parent[v])
        }
        return (source, v, sum)
    }

    /// The original-graph node path of the last successful search, from its chosen source to its chosen target.
    public func path() -> [Int] {
        guard let m = meetingNode else { return [] }
        let h = hierarchy
        // Forward chain: climb parents from the meeting node back to the source.
        var upChain: [Int] = []   // meeting node first
        var v = m
        upChain.append(v)
        while forward.parent[v] != .max {
            v = Int(forward.parent[v])
            upChain.append(v)
        }
        var path = [upChain.last!]
        for i in stride(from: upChain.count - 1, to: 0, by: -1) {
            let a = upChain[i], b = upChain[i - 1]
            let arc = Int(forward.parentArc[b])
            h.unpack(from: a, to: b, weight: h.upWeights[arc], middle: h.upMiddles[arc], into: &path)
        }
        // Backward chain: from the meeting node down to the target.
        v = m
        while backward.parent[v] != .max {
            let next = Int(backward.parent[v])
            let arc = Int(backward.parentArc[v])
            h.unpack(from: v, to: next, weight: h.downWeights[arc], middle: h.downMiddles[arc], into: &path)
            v = next
        }
        return path
    }
}

/// Many-to-many durations on a `ContractionHierarchy` with the bucket method (Knopp et al. 2007).
///
/// One backward upward search per target leaves `(target, distance)` entries in buckets at the nodes it settles;
/// one forward upward search per source scans the buckets of the nodes it settles. Cost grows with
/// (sources + targets) × search-space size instead of sources × targets × query time. A one-to-many query is the
/// same with one source. Owns its scratch; one per thread.
public struct CHMatrix {
    /// The hierarchy searched.
    public let hierarchy: ContractionHierarchy
    private var distance: [UInt64]
    /// The second metric along each node's search-tree path (meters or milliseconds; see `ArcSums`).
    private var secondary: [Double]
    private var stamp: [UInt32]
    private var current: UInt32 = 0
    private var heap: IndexedMinHeap
    private var settled: [UInt32] = []
    // Buckets as linked lists in flat arrays: bucketHead[v] → entry → entry …
    private var bucketHead: [Int32]
    private var touched: [UInt32] = []
    private var entryNext: [Int32] = []
    private var entryTarget: [UInt32] = []
    private var entryDistance: [UInt64] = []
    private var entrySecondary: [Double] = []

    /// A matrix engine over `hierarchy`.
    public init(hierarchy: ContractionHierarchy) {
        self.hierarchy = hierarchy
        let n = hierarchy.nodeCount
        distance = [UInt64](repeating: 0, count: n)
        secondary = [Double](repeating: 0, count: n)
        stamp = [UInt32](repeating: 0, count: n)
        heap = IndexedMinHeap(capacity: n)
        bucketHead = [Int32](repeating: -1, count: n)
    }

    /// Durations in milliseconds, row per source, `UInt64.max` where unreachable.
    ///
    /// Each source and target is a set of (node, cost) pairs: a snapped point enters the graph at both ends of its edge.
    public mutating func durationsMs(sources: [[(Int, UInt64)]], targets: [[(Int, UInt64)]]) -> [[UInt64]] {
        costs(sources: sources.map { $0.map { ($0.0, $0.1, 0) } }, targets: targets.map { $0.map { ($0.0, $0.1, 0) } },
              arcSums: nil).primary
    }

    /// Costs under the hierarchy's weights (`UInt64.max` where unreachable) and, per cell, a second metric of the
    /// same route: the starts' and ends' own second values plus `arcSums` along the arcs (0 without `arcSums`).
    mutating func costs(sources: [[(Int, UInt64, Double)]], targets: [[(Int, UInt64, Double)]],
                        arcSums: ArcSums?) -> (primary: [[UInt64]], secondary: [[Double]]) {
        var rows = [[UInt64]](repeating: [UInt64](repeating: .max, count: targets.count), count: sources.count)
        var seconds = [[Double]](repeating: [Double](repeating: 0, count: targets.count), count: sources.count)
        for v in touched { bucketHead[Int(v)] = -1 }
        touched.removeAll(keepingCapacity: true)
        entryNext.removeAll(keepingCapacity: true)
        entryTarget.removeAll(keepingCapacity: true)
        entryDistance.removeAll(keepingCapacity: true)
        entrySecondary.removeAll(keepingCapacity: true)
        for (j, t) in targets.enumerated() {
            search(from: t, forward: false, arcSums: arcSums)
            for v in settled {
                let vi = Int(v)
                if bucketHead[vi] < 0 { touched.append(v) }
                entryNext.append(bucketHead[vi])
                entryTarget.append(UInt32(j))
                entryDistance.append(distance[vi])
                entrySecondary.append(secondary[vi])
                bucketHead[vi] = Int32(entryTarget.count - 1)
            }
        }
        for (i, s) in sources.enumerated() {
            search(from: s, forward: true, arcSums: arcSums)
            rows[i].withUnsafeMutableBufferPointer { row in
                seconds[i].withUnsafeMutableBufferPointer { second in
                    for v in settled {
                        let d = distance[Int(v)], sv = secondary[Int(v)]
                        var e = bucketHead[Int(v)]
                        while e >= 0 {
                            let total = d + entryDistance[Int(e)]
                            let j = Int(entryTarget[Int(e)])
                            if total < row[j] { row[j] = total; second[j] = sv + entrySecondary[Int(e)] }
                            e = entryNext[Int(e)]
                        }
                    }
                }
            }
        }
        return (rows, seconds)
    }

    /// The last search's settled nodes and their costs, ascending by node.
    func settledSortedByNode() -> [(node: UInt32, cost: UInt64)] {
        settled.map { (node: $0, cost: distance[Int($0)]) }.sorted { $0.node < $1.node }
    }

    /// A full upward search with stall-on-demand; leaves the unstalled settled nodes in `settled`.
    private mutating func search(from starts: [(Int, UInt64, Double)], forward: Bool, arcSums: ArcSums?) {
        current &+= 1
        if current == 0 { for i in stamp.indices { stamp[i] = 0 }; current = 1 }
        let cur = current
        heap.clear()
        settled.removeAll(keepingCapacity: true)
        for (v, c, second) in starts where stamp[v] != cur || c < distance[v] {
            stamp[v] = cur; distance[v] = c; secondary[v] = second
            heap.pushOrDecrease(v, key: c)
        }
        let h = hierarchy
        let climbOffsets = forward ? h.upOffsets : h.downOffsets
        let climbHeads = forward ? h.upHeads : h.downHeads
        let climbWeights = forward ? h.upWeights : h.downWeights
        let stallOffsets = forward ? h.downOffsets : h.upOffsets
        let stallHeads = forward ? h.downHeads : h.upHeads
        let stallWeights = forward ? h.downWeights : h.upWeights
        let climbSums = arcSums.map { forward ? $0.up : $0.down }
        while !heap.isEmpty {
            let (u, d) = heap.popMin()
            var stalled = false
            for a in Int(stallOffsets[u])..<Int(stallOffsets[u + 1]) {
                let x = Int(stallHeads[a])
                if stamp[x] == cur, distance[x] + UInt64(stallWeights[a]) < d { stalled = true; break }
            }
            if stalled { continue }
            settled.append(UInt32(u))
            for a in Int(climbOffsets[u])..<Int(climbOffsets[u + 1]) {
                let x = Int(climbHeads[a])
                let nd = d + UInt64(climbWeights[a])
                if stamp[x] != cur || nd < distance[x] {
                    stamp[x] = cur; distance[x] = nd
                    secondary[x] = secondary[u] + (climbSums?[a] ?? 0)
                    heap.pushOrDecrease(x, key: nd)
                }
            }
        }
    }
}

/// One point's upward search space in a `ContractionHierarchy`, sorted by node: the nodes a stall-on-demand upward
/// search settles from it (forward from a source, or backward from a target) and their costs. The bucket method one
/// pair at a time: when the same points meet in many pairs, each space is searched once and every pair is one merge.
public struct CHSearchSpace: Sendable {
    /// Settled nodes, ascending.
    public let nodes: [UInt32]
    /// Cost of each node from the point (or to it, for a backward space), in the hierarchy's units.
    public let costs: [UInt64]

    /// The cost from this forward space's source to `backward`'s target: the least sum over the nodes both spaces
    /// hold, `UInt64.max` when they share none (unreachable). Equals the bucket matrix's cell for the pair.
    /// - Complexity: O(both spaces' sizes).
    public func meet(_ backward: CHSearchSpace) -> UInt64 {
        var best = UInt64.max
        nodes.withUnsafeBufferPointer { a in
            costs.withUnsafeBufferPointer { ca in
                backward.nodes.withUnsafeBufferPointer { b in
                    backward.costs.withUnsafeBufferPointer { cb in
                        var i = 0, j = 0
                        while i < a.count, j < b.count {
                            let x = a[i], y = b[j]
                            if x == y {
                                let sum = ca[i] &+ cb[j]
                                if sum < best { best = sum }
                                i += 1; j += 1
                            } else if x < y {
                                i += 1
                            } else {
                                j += 1
                            }
                        }
                    }
                }
            }
        }
        return best
    }
}

extension CHMatrix {
    /// The upward search space from `starts` (each a node and its initial cost): forward for a source, backward for
    /// a target. `forwardSpace.meet(backwardSpace)` is then the pair's cost, as `durationsMs` would give it.
    public mutating func searchSpace(from starts: [(Int, UInt64)], forward: Bool) -> CHSearchSpace {
        search(from: starts.map { ($0.0, $0.1, 0) }, forward: forward, arcSums: nil)
        let order = settledSortedByNode()
        return CHSearchSpace(nodes: order.map { $0.node }, costs: order.map { $0.cost })
    }
}

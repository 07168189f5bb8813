/// Builds a `ContractionHierarchy`: node ordering by lazy-updated priorities (edge difference, deleted neighbours,
/// original edges represented) and witness searches that skip a shortcut when a path at least as short avoids the
/// contracted node.
///
/// `order:` re-contracts with a fixed order (the live-speed re-customization): no priorities, one pass.
public enum Contractor {
    /// One arc of the dynamic graph during contraction.
    struct Arc {
        var node: UInt32
        var weight: UInt32
        var middle: UInt32
        var hops: UInt32
    }

    /// Settled-node budget of a witness search when contracting; past it a shortcut is added (correct, possibly redundant).
    static let witnessSettleLimit = 500
    /// Smaller budget when only estimating a priority: a few extra estimated shortcuts cost ordering quality, not correctness.
    static let simulationSettleLimit = 60

    /// Contracts `graph` under `weights` (milliseconds per forward edge; defaults to free-flow durations).
    ///
    /// - Parameters:
    ///   - order: contract in this order (node ids, first contracted first) instead of computing one.
    ///   - progress: receives a line now and then, for stderr.
    public static func contract(_ graph: RoadGraph, weights: UnsafeBufferPointer<UInt32>? = nil, order: [UInt32]? = nil,
                                progress: ((String) -> Void)? = nil) -> ContractionHierarchy {
        let n = graph.nodeCount
        let w = weights ?? graph.durationsMs
        var state = State(nodeCount: n)
        for u in 0..<n {
            for e in graph.outgoing(u) {
                let v = Int(graph.forwardHeads[e])
                guard v != u else { continue }
                state.addOrImprove(from: u, to: v, weight: w[e], middle: ContractionHierarchy.noMiddle, hops: 1)
            }
        }
        var rank = [UInt32](repeating: 0, count: n)
        var up = [[(head: UInt32, weight: UInt32, middle: UInt32)]](repeating: [], count: n)
        var down = [[(head: UInt32, weight: UInt32, middle: UInt32)]](repeating: [], count: n)
        var next: UInt32 = 0

        func finish(_ v: Int, state: inout State) {
            rank[v] = next
            next += 1
            up[v] = state.outArcs[v].map { ($0.node, $0.weight, $0.middle) }
            down[v] = state.inArcs[v].map { ($0.node, $0.weight, $0.middle) }
            state.contract(v)
        }

        if let order {
            for v in order { finish(Int(v), state: &state) }
        } else {
            var queue = IndexedMinHeap(capacity: n)
            for v in 0..<n { queue.pushOrDecrease(v, key: state.priority(v)) }
            var done = 0
            while !queue.isEmpty {
                let (v, _) = queue.popMin()
                let p = state.priority(v)
                if !queue.isEmpty && p > queue.minKey {
                    queue.pushOrDecrease(v, key: p)
                    continue
                }
                let neighbours = Set(state.outArcs[v].map(\.node) + state.inArcs[v].map(\.node))
                finish(v, state: &state)
                for x in neighbours {
                    state.deleted[Int(x)] += 1
                    let key = state.priority(Int(x))
                    if queue.contains(Int(x)) {
                        queue.remove(Int(x))
                        queue.pushOrDecrease(Int(x), key: key)
                    }
                }
                done += 1
                if done % 100_000 == 0 { progress?("contracted \(done) of \(n) nodes") }
            }
        }
        return ContractionHierarchy.pack(rank: rank, up: up, down: down)
    }

    /// The dynamic graph of uncontracted nodes and the witness-search scratch.
    struct State {
        var outArcs: [[Arc]]
        var inArcs: [[Arc]]
        var contracted: [Bool]
        var deleted: [UInt32]
        var level: [UInt32]
        // Witness search scratch.
        var distance: [UInt64]
        var stamp: [UInt32]
        var current: UInt32 = 0
        var heap: IndexedMinHeap
        var shortcuts: [(from: UInt32, to: UInt32, weight: UInt32, hops: UInt32)] = []
        var targetStamp: [UInt32]
        var targetCurrent: UInt32 = 0

        init(nodeCount n: Int) {
            outArcs = [[Arc]](repeating: [], count: n)
            inArcs = [[Arc]](repeating: [], count: n)
            contracted = [Bool](repeating: false, count: n)
            deleted = [UInt32](repeating: 0, count: n)
            level = [UInt32](repeating: 0, count: n)
            distance = [UInt64](repeating: 0, count: n)
            stamp = [UInt32](repeating: 0, count: n)
            heap = IndexedMinHeap(capacity: n)
            targetStamp = [UInt32](repeating: 0, count: n)
        }

        /// Adds arc `u→v`, or lowers the weight of an existing one; returns whether anything changed.
        @discardableResult
        mutating func addOrImprove(from u: Int, to v: Int, weight: UInt32, middle: UInt32, hops: UInt32) -> Bool {
            if let i = outArcs[u].firstIndex(where: { Int($0.node) == v }) {
                guard weight < outArcs[u][i].weight else { return false }
                outArcs[u][i].weight = weight; outArcs[u][i].middle = middle; outArcs[u][i].hops = hops
                let j = inArcs[v].firstIndex(where: { Int($0.node) == u })!
                inArcs[v][j].weight = weight; inArcs[v][j].middle = middle; inArcs[v][j].hops = hops
                return true
            }
            outArcs[u].append(Arc(node: UInt32(v), weight: weight, middle: middle, hops: hops))
            inArcs[v].append(Arc(node: UInt32(u), weight: weight, middle: middle, hops: hops))
            return true
        }

        /// Computes in `shortcuts` the arcs that contracting `v` would need.
        mutating func findShortcuts(_ v: Int, settleLimit: Int) {
            shortcuts.removeAll(keepingCapacity: true)
            let ins = inArcs[v], outs = outArcs[v]
            guard !ins.isEmpty, !outs.isEmpty else { return }
            let maxOut = outs.reduce(0) { max($0, UInt64($1.weight)) }
            targetCurrent &+= 1
            if targetCurrent == 0 { for i in targetStamp.indices { targetStamp[i] = 0 }; targetCurrent = 1 }
            for b in outs { targetStamp[Int(b.node)] = targetCurrent }
            for a in ins {
                let u = Int(a.node)
                let limit = UInt64(a.weight) + maxOut
                let targets = outs.count - (targetStamp[u] == targetCurrent ? 1 : 0)
                witnessSearch(from: u, avoiding: v, limit: limit, settleLimit: settleLimit, targets: targets)
                for b in outs where Int(b.node) != u {
                    let x = Int(b.node)
                    let via = UInt64(a.weight) + UInt64(b.weight)
                    if stamp[x] == current && distance[x] <= via { continue }
                    shortcuts.append((a.node, b.node, UInt32(clamping: via), a.hops + b.hops))
                }
            }
        }

        /// Dijkstra from `source` over uncontracted nodes except `avoid`, up to `limit` or the settle budget.
        mutating func witnessSearch(from source: Int, avoiding avoid: Int, limit: UInt64, settleLimit: Int, targets: Int) {
            current &+= 1
            if current == 0 { for i in stamp.indices { stamp[i] = 0 }; current = 1 }
            heap.clear()
            stamp[source] = current
            distance[source] = 0
            heap.pushOrDecrease(source, key: 0)
            var settled = 0, targetsLeft = targets
            while !heap.isEmpty {
                let (u, d) = heap.popMin()
                settled += 1
                if d > limit || settled > settleLimit { break }
                if targetStamp[u] == targetCurrent && u != source {
                    targetsLeft -= 1
                    if targetsLeft <= 0 { break }   // every target has its final distance
                }
                let arcs = outArcs[u]
                for i in 0..<arcs.count {
                    let a = arcs[i]
                    let x = Int(a.node)
                    if x == avoid { continue }
                    let nd = d + UInt64(a.weight)
                    if stamp[x] != current || nd < distance[x] {
                        stamp[x] = current
                        distance[x] = nd
                        heap.pushOrDecrease(x, key: nd)
                    }
                }
            }
            heap.clear()
        }

        /// Priority of `v` (smaller contracts first).
        mutating func priority(_ v: Int) -> UInt64 {
            findShortcuts(v, settleLimit: Contractor.simulationSettleLimit)
            let removed = inArcs[v].count + outArcs[v].count
            var added = 0, addedHops: UInt32 = 0
            for s in shortcuts {
                added += 1
                addedHops += s.hops
                _ = s
            }
            let removedHops = inArcs[v].reduce(0) { $0 + $1.hops } + outArcs[v].reduce(0) { $0 + $1.hops }
            let edgeQuotient = removed == 0 ? 0 : Double(added) / Double(removed)
            let hopQuotient = removedHops == 0 ? 0 : Double(addedHops) / Double(removedHops)
            let p = 1000 + 190 * edgeQuotient + 600 * hopQuotient + 120 * Double(level[v]) + 50 * Double(deleted[v])
            return UInt64(p * 16)
        }

        /// Contracts `v`: adds its shortcuts and removes it from its neighbours' lists.
        mutating func contract(_ v: Int) {
            findShortcuts(v, settleLimit: Contractor.witnessSettleLimit)
            let list = shortcuts
            for x in outArcs[v] {
                inArcs[Int(x.node)].removeAll { Int($0.node) == v }
                level[Int(x.node)] = max(level[Int(x.node)], level[v] + 1)
            }
            for x in inArcs[v] {
                outArcs[Int(x.node)].removeAll { Int($0.node) == v }
                level[Int(x.node)] = max(level[Int(x.node)], level[v] + 1)
            }
            for s in list {
                addOrImprove(from: Int(s.from), to: Int(s.to), weight: s.weight, middle: UInt32(v), hops: s.hops)
            }
            outArcs[v] = []
            inArcs[v] = []
            contracted[v] = true
        }
    }
}

extension IndexedMinHeap {
    /// Removes `v` if present (used to re-key a node whose priority changed).
    mutating func remove(_ v: Int) {
        guard contains(v) else { return }
        // Lower to the minimum possible key, then pop it.
        pushOrDecrease(v, key: 0)
        if minKey == 0 { _ = popMin() }
    }
}

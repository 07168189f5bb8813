import Foundation

/// A bounded one-to-many Dijkstra on edge lengths, for the map matcher's road distances between nearby candidates.
///
/// Stops at a length bound or once every target node is settled, whichever comes first, so a step between two
/// fixes a few dozen meters apart settles only the nodes around them. Keys are whole millimetres (exact sums, the
/// shared integer heap). Owns its scratch (stamped per run, so a run costs what it touches); one per thread.
struct LengthSearch {
    let graph: RoadGraph
    private var distance: [UInt64]
    private var parentEdge: [UInt32]
    private var parentNode: [UInt32]
    /// Turn penalties (millimetres) on the best path to each node: they are in `distance`; this tells them apart from
    /// length.
    private var penalties: [UInt64]
    private var stamp: [UInt32]
    private var targetStamp: [UInt32]
    private var current: UInt32 = 0
    private var heap: IndexedMinHeap
    /// Nodes settled over all runs (a work counter for tests and tuning).
    private(set) var settledTotal = 0

    init(graph: RoadGraph) {
        self.graph = graph
        let n = graph.nodeCount
        distance = [UInt64](repeating: 0, count: n)
        parentEdge = [UInt32](repeating: .max, count: n)
        parentNode = [UInt32](repeating: .max, count: n)
        penalties = [UInt64](repeating: 0, count: n)
        stamp = [UInt32](repeating: 0, count: n)
        targetStamp = [UInt32](repeating: 0, count: n)
        heap = IndexedMinHeap(capacity: n)
    }

    /// Searches from `source` (reached after `startMeters`) up to `maxMeters`, stopping early once every node of
    /// `targets` is settled; `backward` follows edges against their direction (what lies behind `source`). A hop
    /// straight back to the node just left (a U-turn; at the source, back to `avoid`) costs `penalty` more: a
    /// node-based stand-in for a turn cost, exact enough for choosing between nearby candidates. Any other turn costs
    /// `turnPenalty × (1 − cos θ) / 2` for a heading change θ (so a right angle half of it), forward runs only.
    /// `maxMeters` bounds the path's length, `maxPenalized` its length with the penalties.
    mutating func run(from source: Int, startMeters: Double, maxMeters: Double, targets: [Int], backward: Bool = false,
                      avoid: Int = -1, penalty: Double = 0, turnPenalty: Double = 0, maxPenalized: Double = .infinity) {
        current &+= 1
        if current == 0 {
            for i in stamp.indices { stamp[i] = 0; targetStamp[i] = 0 }
            current = 1
        }
        heap.clear()
        var remaining = 0
        for t in targets where targetStamp[t] != current {
            targetStamp[t] = current
            remaining += 1
        }
        let limit = Self.millimetres(maxMeters), start = Self.millimetres(startMeters)
        let penalizedLimit = maxPenalized.isFinite ? Self.millimetres(maxPenalized) : UInt64.max
        guard start <= limit else { return }
        stamp[source] = current
        distance[source] = start
        parentEdge[source] = .max
        penalties[source] = 0
        // The source "came from" `avoid`, so turning straight back to it is a U-turn like any other.
        parentNode[source] = avoid >= 0 ? UInt32(avoid) : .max
        let penaltyMm = Self.millimetres(penalty)
        heap.pushOrDecrease(source, key: start)
        let lengths = graph.lengthsMeters
        let heads = backward ? graph.backwardTails : graph.forwardHeads
        let offsets = backward ? graph.backwardOffsets : graph.forwardOffsets
        let turnMm = backward ? 0 : Double(Self.millimetres(turnPenalty))
        // One x scale for the whole search: it reaches a few hundred meters, where the cosine barely changes.
        let xScale = cos(graph.latDegrees[source] * Double.pi / 180)
        while !heap.isEmpty {
            let (u, d) = heap.popMin()
            let from = Int(parentNode[u])
            settledTotal += 1
            if targetStamp[u] == current {
                remaining -= 1
                if remaining == 0 { break }
            }
            for i in Int(offsets[u])..<Int(offsets[u + 1]) {
                let v = Int(heads[i])
                let e = backward ? Int(graph.backwardEdges[i]) : i
                var extra: UInt64 = 0
                // By OSM node: a junction split for turn costs has several graph nodes, and turning back to any of
                // them is the same U-turn.
                if from != Int(UInt32.max), v == from || graph.osmNodeIds[v] == graph.osmNodeIds[from] { extra = penaltyMm }
                else if turnMm > 0, from != Int(UInt32.max) { extra = UInt64(turnMm * graph.turnShare(from, u, v, xScale: xScale)) }
                let nd = d + UInt64(lengths[e] * 1000) + extra
                // `maxMeters` bounds the road length (penalties left out), `maxPenalized` the search key.
                guard nd <= penalizedLimit, nd - (penalties[u] &+ extra) <= limit else { continue }
                if stamp[v] != current || nd < distance[v] {
                    stamp[v] = current
                    distance[v] = nd
                    penalties[v] = penalties[u] &+ extra
                    parentEdge[v] = UInt32(e)
                    parentNode[v] = UInt32(u)
                    heap.pushOrDecrease(v, key: nd)
                }
            }
        }
    }

    /// Meters as whole millimetres, NaN and negatives as 0, at most 10^9 m (so sums cannot overflow).
    static func millimetres(_ meters: Double) -> UInt64 {
        guard meters > 0 else { return 0 }
        return UInt64(min(meters, 1e9) * 1000)
    }

    /// Meters to `v` found by the last run (penalties included), or nil when it was not reached within the bound.
    func meters(to v: Int) -> Double? { stamp[v] == current ? Double(distance[v]) / 1000 : nil }

    /// Turn penalties on the last run's path to `v`, meters (0 when not reached).
    func penaltyMeters(to v: Int) -> Double { stamp[v] == current ? Double(penalties[v]) / 1000 : 0 }

    /// The node the last run reached `v` from, or nil at the source or when `v` was not reached.
    func predecessor(of v: Int) -> Int? {
        stamp[v] == current && parentNode[v] != .max ? Int(parentNode[v]) : nil
    }

    /// The edges of the path the last (forward) run found to `v`, in travel order (empty at the source), or nil if
    /// not reached.
    func pathEdges(to v: Int) -> [Int]? {
        guard stamp[v] == current else { return nil }
        var edges: [Int] = []
        var x = v
        while parentEdge[x] != .max {
            let e = Int(parentEdge[x])
            edges.append(e)
            var tail = -1
            for i in Int(graph.backwardOffsets[x])..<Int(graph.backwardOffsets[x + 1]) where Int(graph.backwardEdges[i]) == e {
                tail = Int(graph.backwardTails[i])
                break
            }
            guard tail >= 0, edges.count <= graph.nodeCount else { return nil }
            x = tail
        }
        return edges.reversed()
    }
}

extension RoadGraph {
    /// `(1 − cos θ) / 2` for the heading change θ at `b` on the way `a → b → c`: 0 straight on, ½ at a right angle, 1
    /// turning back; 0 when a leg has no length (restriction copies share their node's position).
    func turnShare(_ a: Int, _ b: Int, _ c: Int) -> Double {
        turnShare(a, b, c, xScale: cos(latDegrees[b] * Double.pi / 180))
    }

    /// `turnShare(_:_:_:)` with longitude differences scaled by `k` (the cosine of a nearby latitude).
    @inline(__always)
    func turnShare(_ a: Int, _ b: Int, _ c: Int, xScale k: Double) -> Double {
        let inX = (lngDegrees[b] - lngDegrees[a]) * k, inY = latDegrees[b] - latDegrees[a]
        let outX = (lngDegrees[c] - lngDegrees[b]) * k, outY = latDegrees[c] - latDegrees[b]
        let norms = ((inX * inX + inY * inY) * (outX * outX + outY * outY)).squareRoot()
        guard norms > 0 else { return 0 }
        return (1 - (inX * outX + inY * outY) / norms) / 2
    }
}

import Routing

/// Free-flow driving milliseconds between road nodes, computed in batches (one contraction-hierarchy bucket matrix
/// per batch of missing pairs) and kept for the whole run: the food simulator asks for the same restaurants,
/// customers and courier positions round after round.
///
/// Not thread-safe: one simulation owns it.
final class NodeTravelCache {
    private var query: RouteQuery
    private var msByPair: [UInt64: UInt32] = [:]
    private var pending = Set<UInt64>()

    init(network: RoadNetwork) { query = network.makeQuery() }

    private static func key(_ from: Int, _ to: Int) -> UInt64 { UInt64(UInt32(from)) << 32 | UInt64(UInt32(to)) }

    /// Notes a pair to fetch at the next `fetchPending()`.
    func want(_ from: Int, _ to: Int) {
        let k = Self.key(from, to)
        if msByPair[k] == nil { pending.insert(k) }
    }

    /// Computes every wanted pair: one matrix over the wanted sources × wanted targets (the extra pairs it yields
    /// are kept too).
    func fetchPending() {
        guard !pending.isEmpty else { return }
        let sources = Array(Set(pending.map { Int($0 >> 32) })).sorted()
        let targets = Array(Set(pending.map { Int($0 & 0xFFFF_FFFF) })).sorted()
        pending.removeAll(keepingCapacity: true)
        let rows = query.matrixMs(sourceNodes: sources, targetNodes: targets)
        for (i, s) in sources.enumerated() {
            for (j, t) in targets.enumerated() {
                let ms = rows[i][j]
                msByPair[Self.key(s, t)] = ms >= UInt64(UInt32.max) ? UInt32.max : UInt32(ms)
            }
        }
    }

    /// Free-flow milliseconds from one node to another; `.infinity` when unreachable. A pair not fetched yet is
    /// computed on the spot.
    func ms(_ from: Int, _ to: Int) -> Double {
        if from == to { return 0 }
        let k = Self.key(from, to)
        if msByPair[k] == nil { pending.insert(k); fetchPending() }
        let v = msByPair[k] ?? UInt32.max
        return v == UInt32.max ? .infinity : Double(v)
    }
}

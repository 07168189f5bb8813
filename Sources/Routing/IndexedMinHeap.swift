/// A binary min-heap of node ids keyed by distance, with decrease-key through a position table.
///
/// Sized once for a graph and reused across searches: `clear()` costs the number of entries left, never the
/// node count, so a query touches only what it visits.
struct IndexedMinHeap {
    private var keys: [UInt64] = []
    private var nodes: [UInt32] = []
    /// Heap slot of each node, or -1 when absent.
    private var positions: [Int32]

    /// A heap for node ids below `capacity`.
    init(capacity: Int) {
        positions = [Int32](repeating: -1, count: capacity)
        keys.reserveCapacity(256)
        nodes.reserveCapacity(256)
    }

    var isEmpty: Bool { nodes.isEmpty }
    var count: Int { nodes.count }
    /// The smallest key, or `UInt64.max` when empty.
    var minKey: UInt64 { keys.first ?? .max }

    func contains(_ v: Int) -> Bool { positions[v] >= 0 }

    /// Inserts `v` with `key`, or lowers its key if it is present with a larger one.
    mutating func pushOrDecrease(_ v: Int, key: UInt64) {
        var i: Int
        if positions[v] >= 0 {
            i = Int(positions[v])
            guard key < keys[i] else { return }
        } else {
            i = nodes.count
            keys.append(key)
            nodes.append(UInt32(v))
        }
        while i > 0 {
            let parent = (i - 1) >> 1
            guard keys[parent] > key else { break }
            keys[i] = keys[parent]
            nodes[i] = nodes[parent]
            positions[Int(nodes[i])] = Int32(i)
            i = parent
        }
        keys[i] = key
        nodes[i] = UInt32(v)
        positions[v] = Int32(i)
    }

    /// Removes and returns the entry with the smallest key.
    mutating func popMin() -> (node: Int, key: UInt64) {
        let top = (Int(nodes[0]), keys[0])
        positions[top.0] = -1
        let lastKey = keys.removeLast()
        let lastNode = nodes.removeLast()
        if !nodes.isEmpty {
            var i = 0
            let n = nodes.count
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n, keys[child + 1] < keys[child] { child += 1 }
                guard keys[child] < lastKey else { break }
                keys[i] = keys[child]
                nodes[i] = nodes[child]
                positions[Int(nodes[i])] = Int32(i)
                i = child
            }
            keys[i] = lastKey
            nodes[i] = lastNode
            positions[Int(lastNode)] = Int32(i)
        }
        return top
    }

    /// Empties the heap.
    mutating func clear() {
        for v in nodes { positions[Int(v)] = -1 }
        keys.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
    }
}

/// Grid square → the fence slots listed for it, built for the ingest path's one look-up a ping: an open-addressing
/// table of square keys (multiplicative hash, linear probing) whose values are spans of one shared arena of slots.
///
/// Why not `[UInt64: [Int32]]`: reading a dictionary of arrays hashes with SipHash and retains the array it hands
/// out, where this is a multiply, a probe or two and a range. A list that outgrows its span moves to the end of
/// the arena (the old span is waste, reclaimed by compacting once it is half the arena); a square whose list
/// empties keeps its key until the table is rebuilt. A key and where its list lives share one 16-byte table entry, so
/// a look-up touches one cache line of the table (a ping's square is a random place in a large table); the spans'
/// capacities, needed only to grow a list, live apart. Value type; the index owns the only copy it mutates.
struct FenceSquareMap {
    /// A square's key and where its list lives in `arena`.
    struct Bucket {
        var key: UInt64
        var start: Int32
        var count: Int32
    }

    private static let empty = UInt64.max
    private(set) var buckets: [Bucket]
    /// Each bucket's span capacity in `arena`.
    private var capacities: [Int32]
    private(set) var arena: [Int32] = []
    private var shift: UInt64
    private var occupied = 0
    private var emptied = 0
    private var waste = 0

    init() {
        buckets = [Bucket](repeating: Bucket(key: Self.empty, start: 0, count: 0), count: 1_024)
        capacities = [Int32](repeating: 0, count: 1_024)
        shift = 64 - 10
    }

    /// Squares with a non-empty list.
    var count: Int { occupied - emptied }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The table position of `key`, or nil.
    @inline(__always)
    func find(_ key: UInt64) -> Int? {
        let mask = buckets.count - 1
        var i = home(key)
        while true {
            let k = buckets[i].key
            if k == key { return i }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// The arena range of a square's list (empty when it has none).
    @inline(__always)
    func range(_ key: UInt64) -> Range<Int> {
        buckets.withUnsafeBufferPointer { b in
            let mask = b.count - 1
            var i = home(key)
            while true {
                let bucket = b[i]
                if bucket.key == key { return Int(bucket.start)..<Int(bucket.start + bucket.count) }
                if bucket.key == Self.empty { return 0..<0 }
                i = (i + 1) & mask
            }
        }
    }

    /// A square's list as an array (tests and the slow paths).
    func list(_ key: UInt64) -> [Int32] { Array(arena[range(key)]) }

    /// Lists `slot` for the square `key`.
    mutating func append(_ slot: Int32, to key: UInt64) {
        if (occupied + 1) * 4 > buckets.count * 3 { rehash(capacity: buckets.count * 2) }
        let (i, inserted) = findOrInsert(key)
        var s = buckets[i]
        if !inserted && s.count == 0 { emptied -= 1 }
        if s.count == capacities[i] {
            let capacity = max(4, capacities[i] * 2)
            let start = arena.count
            // Element by element: appending a slice of the arena to itself would copy the whole arena first.
            for j in Int(s.start)..<Int(s.start + s.count) { arena.append(arena[j]) }
            arena.append(contentsOf: repeatElement(-1, count: Int(capacity - s.count)))
            waste += Int(capacities[i])
            s.start = Int32(start)
            capacities[i] = capacity
        }
        arena[Int(s.start + s.count)] = slot
        s.count += 1
        buckets[i] = s
        if waste > 4_096 && waste * 2 > arena.count { compact() }
    }

    /// Unlists `slot` from the square `key` (order within a list is not kept).
    mutating func remove(_ slot: Int32, from key: UInt64) {
        guard let i = find(key) else { return }
        var s = buckets[i]
        let lo = Int(s.start), hi = Int(s.start + s.count)
        guard let at = arena[lo..<hi].firstIndex(of: slot) else { return }
        arena[at] = arena[hi - 1]
        s.count -= 1
        buckets[i] = s
        if s.count == 0 {
            emptied += 1
            if emptied > 1_024 && emptied * 2 > occupied { rehash(capacity: buckets.count) }
        }
    }

    private mutating func findOrInsert(_ key: UInt64) -> (Int, inserted: Bool) {
        let mask = buckets.count - 1
        var i = home(key)
        while true {
            if buckets[i].key == key { return (i, false) }
            if buckets[i].key == Self.empty {
                buckets[i] = Bucket(key: key, start: 0, count: 0)
                capacities[i] = 0
                occupied += 1
                return (i, true)
            }
            i = (i + 1) & mask
        }
    }

    /// Rebuilds the table at `capacity` (a power of two), dropping squares whose list is empty.
    private mutating func rehash(capacity: Int) {
        let oldBuckets = buckets, oldCapacities = capacities
        var size = 1_024
        while size < capacity { size *= 2 }
        while (occupied - emptied + 1) * 4 > size * 3 { size *= 2 }
        buckets = [Bucket](repeating: Bucket(key: Self.empty, start: 0, count: 0), count: size)
        capacities = [Int32](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        occupied = 0
        emptied = 0
        for (b, capacity) in zip(oldBuckets, oldCapacities) where b.key != Self.empty {
            if b.count == 0 {
                waste += Int(capacity)
                continue
            }
            let i = findOrInsert(b.key).0
            buckets[i] = b
            capacities[i] = capacity
        }
    }

    /// Copies every list to a fresh arena, each span exactly as long as its list.
    private mutating func compact() {
        var fresh: [Int32] = []
        fresh.reserveCapacity(arena.count - waste)
        for i in buckets.indices where buckets[i].key != Self.empty {
            let s = buckets[i]
            let start = fresh.count
            fresh.append(contentsOf: arena[Int(s.start)..<Int(s.start + s.count)])
            buckets[i].start = Int32(start)
            capacities[i] = s.count
        }
        arena = fresh
        waste = 0
    }
}

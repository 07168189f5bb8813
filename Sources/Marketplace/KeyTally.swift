/// How many times each key occurs in a sequence, tallied in an open-addressing table with a multiplicative hash.
///
/// The surge tick tallies the live cell of every available courier: a million keys with a few thousand distinct
/// values. A `Dictionary` pays a seeded SipHash and a bounds-checked probe per element (about 0.2 s of a core at 1M
/// couriers, every tick); this is a multiply, a shift and a compare in a table that stays in cache.
struct KeyTally {
    private var keys: [UInt64]
    private var counts: [Int]   // 0 marks a free slot
    private var shift: UInt64
    /// Distinct keys seen.
    private(set) var distinct = 0

    /// An empty tally sized for about `expectedDistinct` keys before it grows.
    init(expectedDistinct: Int = 64) {
        var size = 64
        while size < 2 * expectedDistinct { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        counts = [Int](repeating: 0, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// Counts one occurrence of `key`.
    mutating func add(_ key: UInt64, count: Int = 1) {
        let mask = keys.count - 1
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while counts[i] != 0 {
            if keys[i] == key { counts[i] += count; return }
            i = (i + 1) & mask
        }
        keys[i] = key
        counts[i] = count
        distinct += 1
        if 2 * distinct > keys.count { grow() }
    }

    /// Calls `body` once per distinct key with its count, in no particular order.
    func forEach(_ body: (UInt64, Int) -> Void) {
        for i in counts.indices where counts[i] != 0 { body(keys[i], counts[i]) }
    }

    private mutating func grow() {
        let oldKeys = keys, oldCounts = counts
        keys = [UInt64](repeating: 0, count: 2 * oldKeys.count)
        counts = [Int](repeating: 0, count: 2 * oldKeys.count)
        shift -= 1
        distinct = 0
        for i in oldCounts.indices where oldCounts[i] != 0 { add(oldKeys[i], count: oldCounts[i]) }
    }
}

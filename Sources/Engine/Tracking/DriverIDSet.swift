/// A set of driver ids in one open-addressing table (linear probing, multiplicative hash).
///
/// A subscriber that stopped reading collects which drivers changed meanwhile: every tick adds each of its hits,
/// hundreds per tick for a wide viewport. A `[UInt64: DriverState]` paid a seeded hash, a probe and a 48-byte copy
/// per hit (12–20 % of the loop with 100 stalled whole-city viewers); this pays a multiply and a compare, and the
/// states are read from the table once, when the subscriber drains.
struct DriverIDSet {
    private var slots: [UInt64] = []
    /// `UInt64.max` marks a free slot; the id `UInt64.max` itself is kept in this flag.
    private var hasMaxID = false
    private var shift: UInt64 = 0
    /// Ids in the set.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Adds `id`; true when it was not there yet.
    @discardableResult
    mutating func insert(_ id: UInt64) -> Bool {
        if id == .max {
            guard !hasMaxID else { return false }
            hasMaxID = true
            count += 1
            return true
        }
        if 2 * (count + 1) > slots.count { grow() }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while slots[i] != .max {
            if slots[i] == id { return false }
            i = (i + 1) & mask
        }
        slots[i] = id
        count += 1
        return true
    }

    /// Whether `id` is in the set.
    func contains(_ id: UInt64) -> Bool {
        if id == .max { return hasMaxID }
        guard !slots.isEmpty else { return false }
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while slots[i] != .max {
            if slots[i] == id { return true }
            i = (i + 1) & mask
        }
        return false
    }

    /// Calls `body` with every id, in no particular order.
    func forEach(_ body: (UInt64) -> Void) {
        for id in slots where id != .max { body(id) }
        if hasMaxID { body(.max) }
    }

    /// Empties the set; a table past a few thousand slots is freed rather than kept (a drained subscriber rarely
    /// needs it again soon, and ten thousand subscribers each keeping one would add up).
    mutating func removeAll() {
        if slots.count > 4_096 {
            slots = []
            shift = 0
        } else if count > 0 {
            for i in slots.indices { slots[i] = .max }
        }
        hasMaxID = false
        count = 0
    }

    private mutating func grow() {
        let old = slots
        let size = max(16, 2 * old.count)
        slots = [UInt64](repeating: .max, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        count = hasMaxID ? 1 : 0
        for id in old where id != .max { insert(id) }
    }
}

import Vocabulary

/// `DriverID → row` as an open-addressing table of rows only (4 bytes a bucket): the key is read back from
/// the row itself, which keeps the map at ~8 bytes per driver. Linear probing with backward-shift deletion,
/// so there are no tombstones and lookups stay short after heavy churn.
///
/// Invariant: an occupied bucket holds `row + 1`; 0 means empty; load ≤ 5/8.
struct SlotHashIndex {
    private(set) var table: [UInt32] = [UInt32](repeating: 0, count: 16)
    private(set) var count = 0
    private var mask: Int { table.count - 1 }

    @inline(__always)
    static func hash(_ id: UInt64) -> Int {
        // Fibonacci hashing: ids are often sequential, so mix the high bits down.
        Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 20)
    }

    @inline(__always)
    func find(_ id: UInt64, rows: [DriverRow]) -> UInt32? {
        var i = Self.hash(id) & mask
        while true {
            let e = table[i]
            if e == 0 { return nil }
            if rows[Int(e - 1)].id == id { return e - 1 }
            i = (i + 1) & mask
        }
    }

    /// The home bucket's entry for `id` (a load with no dependency on any other look-up; see `DriverTable.warm`).
    @inline(__always)
    func home(_ id: UInt64) -> UInt32 { table[Self.hash(id) & mask] }

    mutating func insert(_ id: UInt64, row: UInt32, rows: [DriverRow]) {
        if (count + 1) * 8 > table.count * 5 { grow(to: table.count * 2, rows: rows) }
        var i = Self.hash(id) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = row + 1
        count += 1
    }

    /// Points the bucket that holds `id` at a new row (the row moved).
    mutating func repoint(_ id: UInt64, from old: UInt32, to new: UInt32) {
        var i = Self.hash(id) & mask
        while table[i] != old + 1 { i = (i + 1) & mask }
        table[i] = new + 1
    }

    mutating func remove(_ id: UInt64, rows: [DriverRow]) {
        var i = Self.hash(id) & mask
        while true {
            let e = table[i]
            if e == 0 { return }
            if rows[Int(e - 1)].id == id { break }
            i = (i + 1) & mask
        }
        // Backward shift: pull later members of the probe run into the hole when their home allows it.
        var hole = i
        var j = (i + 1) & mask
        while table[j] != 0 {
            let home = Self.hash(rows[Int(table[j] - 1)].id) & mask
            // j's entry may move to `hole` iff home is not cyclically inside (hole, j].
            let distHome = (j - home) & mask, distHole = (j - hole) & mask
            if distHome >= distHole {
                table[hole] = table[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        table[hole] = 0
        count -= 1
    }

    mutating func reserve(_ n: Int, rows: [DriverRow]) {
        var size = table.count
        while n * 8 > size * 5 { size *= 2 }
        if size > table.count { grow(to: size, rows: rows) }
    }

    /// Rebuilds at the smallest size that fits `rows` (after a shrink).
    mutating func rebuild(rows: [DriverRow]) {
        var size = 16
        while rows.count * 8 > size * 5 { size *= 2 }
        table = [UInt32](repeating: 0, count: size)
        count = 0
        for (i, row) in rows.enumerated() { insert(row.id, row: UInt32(i), rows: rows) }
    }

    private mutating func grow(to size: Int, rows: [DriverRow]) {
        let old = table
        table = [UInt32](repeating: 0, count: size)
        let m = size - 1
        for e in old where e != 0 {
            var i = Self.hash(rows[Int(e - 1)].id) & m
            while table[i] != 0 { i = (i + 1) & m }
            table[i] = e
        }
    }

    var memoryBytes: Int { table.capacity * 4 }
}

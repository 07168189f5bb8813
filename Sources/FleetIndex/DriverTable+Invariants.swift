extension DriverTable {
    /// Walks every structure and traps on the first broken invariant. For tests; O(n).
    public func checkInvariants() {
        let n = ids.count
        for column in [latE7.count, lngE7.count, timestampMs.count, speed.count, heading.count, accuracy.count,
                       status.count, cellKey.count, next.count, prev.count] {
            precondition(column == n, "column length \(column) != \(n)")
        }
        precondition(idMap.count == n, "id map holds \(idMap.count), table \(n)")
        for r in 0..<n {
            precondition(idMap.find(ids[r], ids: ids) == UInt32(r), "id map misses row \(r)")
            precondition(cellKey[r] == scheme.cell(of: state(row: r).position), "row \(r) in the wrong cell")
        }
        var listed = 0
        buckets.forEachBucket { key, head, count in
            var r = head, seen: UInt32 = 0, before = Self.none
            while r != Self.none {
                precondition(cellKey[Int(r)] == key, "row \(r) listed under a foreign cell")
                precondition(prev[Int(r)] == before, "broken prev link at row \(r)")
                before = r
                r = next[Int(r)]
                seen += 1
            }
            precondition(seen == count, "bucket count \(count) but list length \(seen)")
            listed += Int(seen)
        }
        precondition(listed == n, "\(listed) rows on lists, \(n) in table")
    }

    /// Bytes held by the table's columns, maps and scratch (capacity, not just count).
    public var memoryBytes: Int {
        ids.capacity * 8 + latE7.capacity * 4 + lngE7.capacity * 4 + timestampMs.capacity * 8
            + speed.capacity * 2 + heading.capacity * 2 + accuracy.capacity * 2 + status.capacity
            + cellKey.capacity * 8 + next.capacity * 4 + prev.capacity * 4 + idMap.memoryBytes + buckets.memoryBytes
    }
}

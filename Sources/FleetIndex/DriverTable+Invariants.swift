extension DriverTable {
    /// Walks every structure and traps on the first broken invariant. For tests; O(n).
    public func checkInvariants() {
        let n = rows.count
        precondition(idMap.count == n, "id map holds \(idMap.count), table \(n)")
        for r in 0..<n {
            precondition(idMap.find(rows[r].id, rows: rows) == UInt32(r), "id map misses row \(r)")
            precondition(rows[r].cellKey == scheme.cell(of: state(row: r).position), "row \(r) in the wrong cell")
        }
        var listed = 0
        buckets.forEachBucket { key, head, count in
            var r = head, seen: UInt32 = 0, before = Self.none
            while r != Self.none {
                precondition(rows[Int(r)].cellKey == key, "row \(r) listed under a foreign cell")
                precondition(rows[Int(r)].prev == before, "broken prev link at row \(r)")
                before = r
                r = rows[Int(r)].next
                seen += 1
            }
            precondition(seen == count, "bucket count \(count) but list length \(seen)")
            listed += Int(seen)
        }
        precondition(listed == n, "\(listed) rows on lists, \(n) in table")
    }

    /// Bytes held by the table's rows, maps and scratch (capacity, not just count).
    public var memoryBytes: Int {
        rows.capacity * MemoryLayout<DriverRow>.stride + idMap.memoryBytes + buckets.memoryBytes
    }
}

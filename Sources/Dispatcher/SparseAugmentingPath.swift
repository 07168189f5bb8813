/// The sparse shortest-augmenting-path search behind `LinearAssignment.solve(_: SparseCostMatrix)`,
/// for `rows <= cols`. Each search is a Dijkstra over the CSR edges with a binary heap, and its
/// scratch is reset by generation stamps, so a search costs only what it touches.
struct SparseAugmentingPath {
    let matrix: SparseCostMatrix

    init(_ matrix: SparseCostMatrix) {
        precondition(matrix.rows <= matrix.cols, "SparseAugmentingPath needs rows <= cols")
        self.matrix = matrix
    }

    /// Returns the column of every row.
    func run() throws(AssignmentError) -> [Int] {
        let n = matrix.rows, m = matrix.cols
        var u = [Double](repeating: 0, count: n)
        var v = [Double](repeating: 0, count: m)
        var col4row = [Int](repeating: -1, count: n)
        var row4col = [Int](repeating: -1, count: m)
        var freeRows: [Int] = []
        var matched = 0
        let start = matrix.rowStart, colsOf = matrix.columns, costOf = matrix.costs

        // Row reduction (v = 0), taking the cheapest column when free (a free one among equal minima).
        for i in 0..<n {
            var best = Double.infinity, bestFree = -1
            for k in start[i]..<start[i + 1] {
                let x = costOf[k], j = Int(colsOf[k])
                if x < best {
                    best = x
                    bestFree = row4col[j] < 0 ? j : -1
                } else if x == best, bestFree < 0, row4col[j] < 0 {
                    bestFree = j
                }
            }
            if best == .infinity { throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched) }
            u[i] = best
            if bestFree >= 0 {
                col4row[i] = bestFree
                row4col[bestFree] = i
                matched += 1
            } else {
                freeRows.append(i)
            }
        }
        if freeRows.isEmpty { return col4row }

        var shortest = [Double](repeating: .infinity, count: m)
        var path = [Int32](repeating: -1, count: m)
        var stamp = [UInt32](repeating: 0, count: m)       // == gen: reached in this search
        var done = [UInt32](repeating: 0, count: m)        // == gen: scanned (distance final)
        var scannedRows: [Int] = []
        var scannedCols: [Int] = []
        var heap = ColumnHeap()
        var gen: UInt32 = 0

        for curRow in freeRows {
            gen &+= 1
            scannedRows.removeAll(keepingCapacity: true)
            scannedCols.removeAll(keepingCapacity: true)
            heap.removeAll()
            var minVal = 0.0
            var i = curRow
            var sink = -1
            while true {
                scannedRows.append(i)
                let base = minVal - u[i]
                for k in start[i]..<start[i + 1] {
                    let j = Int(colsOf[k])
                    if done[j] == gen { continue }
                    let r = base + costOf[k] - v[j]
                    if stamp[j] != gen || r < shortest[j] {
                        stamp[j] = gen
                        shortest[j] = r
                        path[j] = Int32(i)
                        heap.push(distance: r, column: Int32(j), free: row4col[j] < 0)
                    }
                }
                // Pop the nearest column not yet scanned (stale heap entries are skipped).
                var next = -1
                while let top = heap.pop() {
                    let j = Int(top.column)
                    if done[j] == gen || top.distance != shortest[j] { continue }
                    next = j
                    break
                }
                if next < 0 { throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched) }
                minVal = shortest[next]
                done[next] = gen
                scannedCols.append(next)
                if row4col[next] < 0 {
                    sink = next
                    break
                }
                i = row4col[next]
            }
            u[curRow] += minVal
            for r in scannedRows where r != curRow { u[r] += minVal - shortest[col4row[r]] }
            for j in scannedCols { v[j] -= minVal - shortest[j] }
            var j = sink
            while true {
                let r = Int(path[j])
                row4col[j] = r
                let prev = col4row[r]
                col4row[r] = j
                if r == curRow { break }
                j = prev
            }
            matched += 1
        }
        return col4row
    }
}

/// A binary min-heap of columns keyed by (distance, free first), for the sparse search.
struct ColumnHeap {
    struct Entry {
        var distance: Double
        var column: Int32
        var free: Bool
        @inline(__always)
        func precedes(_ o: Entry) -> Bool {
            distance < o.distance || (distance == o.distance && free && !o.free)
        }
    }
    private var items: [Entry] = []

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(distance: Double, column: Int32, free: Bool) {
        let e = Entry(distance: distance, column: column, free: free)
        items.append(e)
        var k = items.count - 1
        while k > 0 {
            let p = (k - 1) >> 1
            if !e.precedes(items[p]) { break }
            items[k] = items[p]
            k = p
        }
        items[k] = e
    }

    mutating func pop() -> Entry? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        let n = items.count
        var k = 0
        while true {
            var c = 2 * k + 1
            if c >= n { break }
            if c + 1 < n, items[c + 1].precedes(items[c]) { c += 1 }
            if !items[c].precedes(last) { break }
            items[k] = items[c]
            k = c
        }
        items[k] = last
        return top
    }
}

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

        // Augmenting row reduction over each row's listed columns, as in DenseAugmentingPath
        // (see there for why the duals stay valid).
        var queue = Array(0..<n)
        let stepLimit = 8 * n + 64
        var steps = 0
        for _ in 0..<2 {
            var k = 0
            let count = queue.count
            var nextFree: [Int] = []
            while k < count {
                let i = queue[k]
                k += 1
                steps += 1
                if steps > stepLimit {
                    nextFree.append(i)
                    continue
                }
                var u1 = Double.infinity, u2 = Double.infinity, j1 = -1, j2 = -1
                for e in start[i]..<start[i + 1] {
                    let j = Int(colsOf[e])
                    let h = costOf[e] - v[j]
                    if h < u2 {
                        if h >= u1 {
                            u2 = h
                            j2 = j
                        } else {
                            u2 = u1
                            j2 = j1
                            u1 = h
                            j1 = j
                        }
                    }
                }
                if j1 < 0 { throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched) }
                var target = j1
                var holder = row4col[j1]
                let strict = u1 < u2
                if strict {
                    if u2 < .infinity {
                        v[j1] -= u2 - u1
                    } else if holder >= 0 {
                        nextFree.append(i)
                        continue
                    }
                } else if holder >= 0, j2 >= 0 {
                    target = j2
                    holder = row4col[j2]
                }
                if holder >= 0 {
                    col4row[holder] = -1
                } else {
                    matched += 1
                }
                col4row[i] = target
                row4col[target] = i
                if holder >= 0 {
                    if strict {
                        k -= 1
                        queue[k] = holder
                    } else {
                        nextFree.append(holder)
                    }
                }
            }
            queue = nextFree
            if queue.isEmpty { break }
        }
        for i in 0..<n where col4row[i] >= 0 {
            let j = col4row[i]
            var best = Double.infinity
            for e in start[i]..<start[i + 1] where Int(colsOf[e]) == j { best = min(best, costOf[e]) }
            u[i] = best - v[j]
        }
        freeRows = queue
        if freeRows.isEmpty { return col4row }

        var shortest = [Double](repeating: .infinity, count: m)
        var path = [Int32](repeating: -1, count: m)
        var stamp = [UInt32](repeating: 0, count: m)       // per-search column state, see `search`
        var scannedRows = [Int](repeating: 0, count: n)
        var scannedCols = [Int](repeating: 0, count: m)
        // Each reached column enters the heap at most once per improvement: bounded by the edges.
        var heap = [ColumnHeap.Entry](repeating: ColumnHeap.Entry(distance: 0, column: 0, free: false), count: colsOf.count + 1)
        var gen: UInt32 = 0
        var failure: AssignmentError? = nil
        start.withUnsafeBufferPointer { start in
            colsOf.withUnsafeBufferPointer { colsOf in
                costOf.withUnsafeBufferPointer { costOf in
                    u.withUnsafeMutableBufferPointer { u in
                        v.withUnsafeMutableBufferPointer { v in
                            col4row.withUnsafeMutableBufferPointer { col4row in
                                row4col.withUnsafeMutableBufferPointer { row4col in
                                    shortest.withUnsafeMutableBufferPointer { shortest in
                                        path.withUnsafeMutableBufferPointer { path in
                                            stamp.withUnsafeMutableBufferPointer { stamp in
                                                    scannedRows.withUnsafeMutableBufferPointer { sr in
                                                        scannedCols.withUnsafeMutableBufferPointer { sc in
                                                            heap.withUnsafeMutableBufferPointer { heapStorage in
                                                                var heap = ColumnHeap(storage: heapStorage)
                                                                do throws(AssignmentError) {
                                                                for curRow in freeRows {
                                                                    gen &+= 1
                                                                    try Self.search(
                                                                        from: curRow, gen: gen, n: n, m: m, start: start, colsOf: colsOf,
                                                                        costOf: costOf, u: u, v: v, col4row: col4row, row4col: row4col,
                                                                        shortest: shortest, path: path, stamp: stamp,
                                                                        sr: sr, sc: sc, heap: &heap, matched: matched)
                                                                    matched += 1
                                                                }
                                                                } catch { failure = error }
                                                            }
                                                        }
                                                    }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return col4row
    }

    /// One Dijkstra search from free row `curRow` over reduced costs, the dual update and the flip.
    @inline(__always)
    static func search(
        from curRow: Int, gen: UInt32, n: Int, m: Int,
        start: UnsafeBufferPointer<Int>, colsOf: UnsafeBufferPointer<Int32>, costOf: UnsafeBufferPointer<Double>,
        u: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
        col4row: UnsafeMutableBufferPointer<Int>, row4col: UnsafeMutableBufferPointer<Int>,
        shortest: UnsafeMutableBufferPointer<Double>, path: UnsafeMutableBufferPointer<Int32>,
        stamp: UnsafeMutableBufferPointer<UInt32>,
        sr: UnsafeMutableBufferPointer<Int>, sc: UnsafeMutableBufferPointer<Int>,
        heap: inout ColumnHeap, matched: Int
    ) throws(AssignmentError) {
        heap.removeAll()
        // Column states for this search: `reached` (tentative distance in `shortest`), `settled`
        // (final); anything else is untouched. Two values per search, so no reset is needed.
        let reached = gen &* 2, settled = gen &* 2 &+ 1
        var bestFree = Double.infinity
        var nsr = 0, nsc = 0
        var minVal = 0.0
        var i = curRow
        var sink = -1
        while true {
            sr[nsr] = i
            nsr += 1
            let base = minVal - u[i]
            for k in start[i]..<start[i + 1] {
                let j = Int(colsOf[k])
                let state = stamp[j]
                if state == settled { continue }
                let r = base + costOf[k] - v[j]
                if state != reached || r < shortest[j] {
                    stamp[j] = reached
                    shortest[j] = r
                    path[j] = Int32(truncatingIfNeeded: i)
                    // A column farther than a free one already reached can never be popped first.
                    if r > bestFree { continue }
                    let free = row4col[j] < 0
                    if free { bestFree = r }
                    heap.push(ColumnHeap.Entry(distance: r, column: Int32(truncatingIfNeeded: j), free: free))
                }
            }
            // Pop the nearest column not yet scanned (stale heap entries are skipped).
            var next = -1
            while let top = heap.pop() {
                let j = Int(top.column)
                if stamp[j] == settled || top.distance != shortest[j] { continue }
                next = j
                break
            }
            if next < 0 { throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched) }
            minVal = shortest[next]
            stamp[next] = settled
            sc[nsc] = next
            nsc += 1
            if row4col[next] < 0 {
                sink = next
                break
            }
            i = row4col[next]
        }
        u[curRow] += minVal
        for k in 0..<nsr {
            let r = sr[k]
            if r != curRow { u[r] += minVal - shortest[col4row[r]] }
        }
        for k in 0..<nsc {
            let j = sc[k]
            v[j] -= minVal - shortest[j]
        }
        var j = sink
        while true {
            let r = Int(path[j])
            row4col[j] = r
            let prev = col4row[r]
            col4row[r] = j
            if r == curRow { break }
            j = prev
        }
    }
}

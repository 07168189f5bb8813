/// The dense shortest-augmenting-path search behind `LinearAssignment.solve(_: CostMatrix)`,
/// for `rows <= cols`. Owns its scratch; reads the costs through a pointer the caller keeps alive.
struct DenseAugmentingPath {
    let costs: UnsafePointer<Double>
    let rows: Int
    let cols: Int

    init(costs: UnsafePointer<Double>, rows: Int, cols: Int) {
        precondition(rows <= cols, "DenseAugmentingPath needs rows <= cols")
        self.costs = costs
        self.rows = rows
        self.cols = cols
    }

    /// Returns the column of every row.
    mutating func run() throws(AssignmentError) -> [Int] {
        let n = rows, m = cols
        var u = [Double](repeating: 0, count: n)
        var v = [Double](repeating: 0, count: m)
        var col4row = [Int](repeating: -1, count: n)
        var row4col = [Int](repeating: -1, count: m)
        var shortest = [Double](repeating: .infinity, count: m)
        var path = [Int](repeating: -1, count: m)
        var remaining = [Int](repeating: 0, count: m)
        var scannedRows = [Int](repeating: 0, count: n)
        var scannedCols = [Int](repeating: 0, count: m)
        var freeRows: [Int] = []
        var matched = 0
        let c = costs

        // Row reduction with v = 0: u[i] = row minimum; take the cheapest column if still free,
        // preferring a free one among equal minima.
        for i in 0..<n {
            let row = c + i * m
            var best = Double.infinity, bestFree = -1
            for j in 0..<m {
                let x = row[j]
                if x < best {
                    best = x
                    bestFree = row4col[j] < 0 ? j : -1
                } else if x == best, bestFree < 0, row4col[j] < 0, x < .infinity {
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

        try u.withUnsafeMutableBufferPointer { (u) throws(AssignmentError) in
            try v.withUnsafeMutableBufferPointer { (v) throws(AssignmentError) in
                try col4row.withUnsafeMutableBufferPointer { (col4row) throws(AssignmentError) in
                    try row4col.withUnsafeMutableBufferPointer { (row4col) throws(AssignmentError) in
                        try shortest.withUnsafeMutableBufferPointer { (shortest) throws(AssignmentError) in
                            try path.withUnsafeMutableBufferPointer { (path) throws(AssignmentError) in
                                try remaining.withUnsafeMutableBufferPointer { (remaining) throws(AssignmentError) in
                                    try scannedRows.withUnsafeMutableBufferPointer { (sr) throws(AssignmentError) in
                                        try scannedCols.withUnsafeMutableBufferPointer { (sc) throws(AssignmentError) in
                                            for curRow in freeRows {
                                                try Self.augment(
                                                    from: curRow, costs: c, n: n, m: m, u: u, v: v,
                                                    col4row: col4row, row4col: row4col, shortest: shortest,
                                                    path: path, remaining: remaining, sr: sr, sc: sc,
                                                    matched: matched)
                                                matched += 1
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
        return col4row
    }

    /// One Dijkstra search from free row `curRow` to the nearest free column, then the dual update
    /// and the flip of the path.
    @inline(__always)
    static func augment(
        from curRow: Int, costs c: UnsafePointer<Double>, n: Int, m: Int,
        u: UnsafeMutableBufferPointer<Double>, v: UnsafeMutableBufferPointer<Double>,
        col4row: UnsafeMutableBufferPointer<Int>, row4col: UnsafeMutableBufferPointer<Int>,
        shortest: UnsafeMutableBufferPointer<Double>, path: UnsafeMutableBufferPointer<Int>,
        remaining: UnsafeMutableBufferPointer<Int>, sr: UnsafeMutableBufferPointer<Int>,
        sc: UnsafeMutableBufferPointer<Int>, matched: Int
    ) throws(AssignmentError) {
        for j in 0..<m {
            remaining[j] = m - 1 - j
            shortest[j] = .infinity
        }
        var numRemaining = m
        var nsr = 0, nsc = 0
        var minVal = 0.0
        var i = curRow
        var sink = -1
        while sink < 0 {
            sr[nsr] = i
            nsr += 1
            let row = c + i * m
            let base = minVal - u[i]
            var lowest = Double.infinity
            var index = -1
            var lowestIsFree = false
            for it in 0..<numRemaining {
                let j = remaining[it]
                let r = base + row[j] - v[j]
                var s = shortest[j]
                if r < s {
                    path[j] = i
                    shortest[j] = r
                    s = r
                }
                if s < lowest {
                    lowest = s
                    index = it
                    lowestIsFree = row4col[j] < 0
                } else if s == lowest, !lowestIsFree, row4col[j] < 0 {
                    index = it
                    lowestIsFree = true
                }
            }
            minVal = lowest
            if minVal == .infinity || index < 0 {
                throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched)
            }
            let j = remaining[index]
            if row4col[j] < 0 { sink = j } else { i = row4col[j] }
            sc[nsc] = j
            nsc += 1
            numRemaining -= 1
            remaining[index] = remaining[numRemaining]
        }
        // Duals: the start row gains minVal; other scanned rows and scanned columns move by their slack.
        u[curRow] += minVal
        for k in 0..<nsr {
            let r = sr[k]
            if r != curRow { u[r] += minVal - shortest[col4row[r]] }
        }
        for k in 0..<nsc {
            let j = sc[k]
            v[j] -= minVal - shortest[j]
        }
        // Flip the alternating path back to curRow.
        var j = sink
        while true {
            let r = path[j]
            row4col[j] = r
            let prev = col4row[r]
            col4row[r] = j
            if r == curRow { break }
            j = prev
        }
    }
}

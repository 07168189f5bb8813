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
        var v = [Double](repeating: 0, count: m)
        var col4row = [Int](repeating: -1, count: n)
        var row4col = [Int](repeating: -1, count: m)
        var freeRows: [Int] = []
        var matched = 0
        let c = costs

        // Augmenting row reduction (Jonker & Volgenant 1987), from v = 0: each free row bids for its
        // cheapest column j1 (reduced cost u1 = c - v) and lowers v[j1] by the gap to its second
        // cheapest (u2), displacing j1's holder. Every assigned row then sits on a column of minimum
        // reduced cost, columns only lose price and stay assigned once assigned, so the duals remain
        // valid for the rectangular search below (v <= 0, v = 0 on unassigned columns).
        var queue = Array(0..<n)
        let stepLimit = 8 * n + 64   // safety bound; rows still free go to the searches
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
                let row = c + i * m
                var u1 = Double.infinity, u2 = Double.infinity, j1 = -1, j2 = -1
                for j in 0..<m {
                    let h = row[j] - v[j]
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
                        nextFree.append(i)   // a single allowed column already held: leave it to the search
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
        freeRows = queue

        if freeRows.isEmpty { return col4row }
        var scratch = Scratch(m: m, v: v)
        for f in freeRows {
            try scratch.augment(from: f, costs: c, n: n, m: m, col4row: &col4row, row4col: &row4col, matched: matched)
            matched += 1
        }
        return col4row
    }

    /// Column-side state of the searches. `vs[j]` is `v[j]` for a column not yet reached at its final
    /// distance and `-infinity` once it is (todo or ready), so the scan loop needs no per-column flag:
    /// `c - vs - u1` is `+infinity` there and never improves `d`. Scanning is sequential in `j`.
    struct Scratch {
        var v: [Double]
        var vs: [Double]
        var d: [Double]
        var final: [Double]
        var pred: [Int]
        var todo: [Int]   // columns at the current minimum, then ready ones before `low`

        init(m: Int, v: [Double]) {
            self.v = v
            self.vs = v
            self.d = [Double](repeating: 0, count: m)
            self.final = [Double](repeating: 0, count: m)
            self.pred = [Int](repeating: 0, count: m)
            self.todo = [Int](repeating: 0, count: m)
        }

        /// One Dijkstra search from free row `f` to the nearest free column in Jonker & Volgenant's
        /// form (a block of equal distances is consumed without a new minimum search), then the
        /// column price update (v only decreases) and the flip of the path. Row duals stay implicit:
        /// u[i] = c[i][col4row[i]] - v[col4row[i]].
        mutating func augment(
            from f: Int, costs c: UnsafePointer<Double>, n: Int, m: Int,
            col4row: inout [Int], row4col: inout [Int], matched: Int
        ) throws(AssignmentError) {
            let sinkFound = try v.withUnsafeMutableBufferPointer { (v) throws(AssignmentError) -> Int in
                try vs.withUnsafeMutableBufferPointer { (vs) throws(AssignmentError) -> Int in
                    try d.withUnsafeMutableBufferPointer { (d) throws(AssignmentError) -> Int in
                        try final.withUnsafeMutableBufferPointer { (final) throws(AssignmentError) -> Int in
                            try pred.withUnsafeMutableBufferPointer { (pred) throws(AssignmentError) -> Int in
                                try todo.withUnsafeMutableBufferPointer { (todo) throws(AssignmentError) -> Int in
                                    try row4col.withUnsafeMutableBufferPointer { (row4col) throws(AssignmentError) -> Int in
                                        try Self.search(
                                            f: f, c: c, n: n, m: m, v: v, vs: vs, d: d, final: final, pred: pred,
                                            todo: todo, row4col: row4col, matched: matched)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var j = sinkFound
            while true {
                let r = pred[j]
                row4col[j] = r
                let prev = col4row[r]
                col4row[r] = j
                if r == f { break }
                j = prev
            }
        }

        @inline(__always)
        static func search(
            f: Int, c: UnsafePointer<Double>, n: Int, m: Int,
            v: UnsafeMutableBufferPointer<Double>, vs: UnsafeMutableBufferPointer<Double>,
            d: UnsafeMutableBufferPointer<Double>, final: UnsafeMutableBufferPointer<Double>,
            pred: UnsafeMutableBufferPointer<Int>, todo: UnsafeMutableBufferPointer<Int>,
            row4col: UnsafeMutableBufferPointer<Int>, matched: Int
        ) throws(AssignmentError) -> Int {
            let rowF = c + f * m
            for j in 0..<m {
                d[j] = rowF[j] - v[j]
                pred[j] = f
            }
            var low = 0, up = 0   // todo[0..<low] ready, todo[low..<up] at distance minD
            var minD = 0.0
            var sink = -1
            search: while true {
                if up == low {
                    // New minimum over the unreached columns (d is +infinity on reached ones).
                    var best = Double.infinity
                    for j in 0..<m { best = min(best, d[j]) }
                    if best == .infinity {
                        sink = -1
                        break search
                    }
                    minD = best
                    for j in 0..<m where d[j] == best {
                        todo[up] = j
                        up += 1
                        final[j] = best
                        d[j] = .infinity
                        vs[j] = -.infinity
                        if row4col[j] < 0 { sink = j }
                    }
                    if sink >= 0 { break search }
                }
                // Scan the row matched to the next todo column.
                let j1 = todo[low]
                low += 1
                let i = row4col[j1]
                let row = c + i * m
                let u1 = row[j1] - v[j1] - minD
                for j in 0..<m {
                    let h = row[j] - vs[j] - u1
                    if h < d[j] {
                        pred[j] = i
                        if h <= minD {   // a tie (or a rounding-negative reduced cost): final at minD
                            todo[up] = j
                            up += 1
                            final[j] = minD
                            d[j] = .infinity
                            vs[j] = -.infinity
                            if row4col[j] < 0 {
                                sink = j
                                break search
                            }
                        } else {
                            d[j] = h
                        }
                    }
                }
            }
            // Reached columns: restore vs, and ready ones lose price by their slack (v only decreases).
            for k in 0..<up {
                let j = todo[k]
                if k < low { v[j] += final[j] - minD }
                vs[j] = v[j]
            }
            if sink < 0 { throw .infeasible(rows: n, cols: m, matchedBeforeFailure: matched) }
            return sink
        }
    }
}

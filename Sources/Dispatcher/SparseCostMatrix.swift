/// A sparse rows × cols cost matrix in CSR form: row `i` holds the allowed pairs
/// `(columns[k], costs[k])` for `k` in `rowStart[i] ..< rowStart[i + 1]`. Pairs not listed are forbidden.
///
/// A column may appear at most once per row. Costs may be negative; NaN and infinities are rejected
/// at construction (an infinite entry should simply be left out).
public struct SparseCostMatrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// `rows + 1` offsets into `columns` and `costs`, starting at 0, non-decreasing.
    public let rowStart: [Int]
    /// Column of each stored entry.
    public let columns: [Int32]
    /// Cost of each stored entry.
    public let costs: [Double]

    /// A matrix over existing CSR arrays, validated.
    /// - Throws: `AssignmentError.malformedMatrix` on bad offsets, out-of-range or repeated columns;
    ///   `AssignmentError.invalidCost` on a non-finite cost.
    public init(rows: Int, cols: Int, rowStart: [Int], columns: [Int32], costs: [Double]) throws(AssignmentError) {
        guard rows >= 0, cols >= 0, cols <= Int(Int32.max) else {
            throw .malformedMatrix(reason: "bad dimension \(rows)x\(cols)")
        }
        guard rowStart.count == rows + 1, rowStart.first == 0, rowStart.last == columns.count,
            columns.count == costs.count
        else {
            throw .malformedMatrix(reason: "CSR offsets do not match \(rows) rows and \(columns.count) entries")
        }
        var lastSeen = [Int](repeating: -1, count: cols)
        for i in 0..<rows {
            let a = rowStart[i], b = rowStart[i + 1]
            guard a <= b else { throw .malformedMatrix(reason: "row \(i) offsets decrease") }
            for k in a..<b {
                let j = Int(columns[k])
                guard j >= 0, j < cols else { throw .malformedMatrix(reason: "row \(i) has column \(j) outside 0..<\(cols)") }
                guard lastSeen[j] != i else { throw .malformedMatrix(reason: "row \(i) lists column \(j) twice") }
                lastSeen[j] = i
                guard costs[k].isFinite else { throw .invalidCost(row: i, col: j) }
            }
        }
        self.rows = rows
        self.cols = cols
        self.rowStart = rowStart
        self.columns = columns
        self.costs = costs
    }

    /// A matrix from per-row lists of `(col, cost)`.
    public init(rows: Int, cols: Int, entries: [[(col: Int, cost: Double)]]) throws(AssignmentError) {
        guard entries.count == rows else {
            throw .malformedMatrix(reason: "\(entries.count) row lists for \(rows) rows")
        }
        var start = [0]
        start.reserveCapacity(rows + 1)
        var cs: [Int32] = [], vs: [Double] = []
        for row in entries {
            for e in row {
                guard e.col >= 0, e.col < cols else {
                    throw .malformedMatrix(reason: "row \(start.count - 1) has column \(e.col) outside 0..<\(cols)")
                }
                cs.append(Int32(e.col))
                vs.append(e.cost)
            }
            start.append(cs.count)
        }
        try self.init(rows: rows, cols: cols, rowStart: start, columns: cs, costs: vs)
    }

    /// The allowed entries of a dense matrix (finite costs).
    /// - Throws: `AssignmentError.invalidCost` on NaN or `-infinity`.
    public init(_ dense: CostMatrix) throws(AssignmentError) {
        var start = [Int](), cs = [Int32](), vs = [Double]()
        start.reserveCapacity(dense.rows + 1)
        start.append(0)
        for i in 0..<dense.rows {
            for j in 0..<dense.cols {
                let c = dense.costs[i * dense.cols + j]
                if c.isNaN || c == -.infinity { throw .invalidCost(row: i, col: j) }
                if c < .infinity {
                    cs.append(Int32(j))
                    vs.append(c)
                }
            }
            start.append(cs.count)
        }
        self.rows = dense.rows
        self.cols = dense.cols
        self.rowStart = start
        self.columns = cs
        self.costs = vs
    }

    /// Number of stored (allowed) entries.
    public var entryCount: Int { columns.count }

    /// The cost of `(row, col)`, or nil when the pair is forbidden. O(entries in the row).
    public func cost(row: Int, col: Int) -> Double? {
        guard row >= 0, row < rows else { return nil }
        for k in rowStart[row]..<rowStart[row + 1] where Int(columns[k]) == col { return costs[k] }
        return nil
    }

    /// The transposed matrix (cols × rows), entries of each new row in increasing old-row order.
    public func transposed() -> SparseCostMatrix {
        var count = [Int](repeating: 0, count: cols + 1)
        for j in columns { count[Int(j) + 1] += 1 }
        for j in 0..<cols { count[j + 1] += count[j] }
        let start = count
        var fill = count
        var cs = [Int32](repeating: 0, count: columns.count)
        var vs = [Double](repeating: 0, count: columns.count)
        for i in 0..<rows {
            for k in rowStart[i]..<rowStart[i + 1] {
                let j = Int(columns[k])
                let p = fill[j]
                fill[j] += 1
                cs[p] = Int32(i)
                vs[p] = costs[k]
            }
        }
        return SparseCostMatrix(unchecked: cols, cols: rows, rowStart: start, columns: cs, costs: vs)
    }

    /// Internal: arrays already known valid.
    init(unchecked rows: Int, cols: Int, rowStart: [Int], columns: [Int32], costs: [Double]) {
        self.rows = rows
        self.cols = cols
        self.rowStart = rowStart
        self.columns = columns
        self.costs = costs
    }
}

/// A dense rows × cols cost matrix, row-major; `Double.infinity` marks a forbidden pair.
///
/// Costs may be negative; NaN and `-infinity` are rejected by the solver with
/// `AssignmentError.invalidCost`.
public struct CostMatrix: Sendable, Equatable {
    /// Number of rows (e.g. couriers).
    public let rows: Int
    /// Number of columns (e.g. orders).
    public let cols: Int
    /// `rows * cols` costs, row-major.
    public private(set) var costs: [Double]

    /// A matrix over existing row-major storage.
    /// - Throws: `AssignmentError.malformedMatrix` when `costs.count != rows * cols` or a dimension is negative.
    public init(rows: Int, cols: Int, costs: [Double]) throws(AssignmentError) {
        guard rows >= 0, cols >= 0 else {
            throw .malformedMatrix(reason: "negative dimension \(rows)x\(cols)")
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, costs.count == count else {
            throw .malformedMatrix(reason: "\(costs.count) costs for a \(rows)x\(cols) matrix")
        }
        self.rows = rows
        self.cols = cols
        self.costs = costs
    }

    /// A matrix filled with `value` (`.infinity` for "all forbidden").
    public init(rows: Int, cols: Int, repeating value: Double) {
        self.rows = max(0, rows)
        self.cols = max(0, cols)
        self.costs = Array(repeating: value, count: self.rows * self.cols)
    }

    /// The cost of `(row, col)`; `.infinity` when forbidden.
    public subscript(row: Int, col: Int) -> Double {
        get { costs[row * cols + col] }
        set { costs[row * cols + col] = newValue }
    }

    /// Whether the pair may be assigned.
    public func isAllowed(row: Int, col: Int) -> Bool { costs[row * cols + col] < .infinity }

    /// The transposed matrix (cols × rows).
    public func transposed() -> CostMatrix {
        var out = [Double](repeating: 0, count: costs.count)
        let r = rows, c = cols
        costs.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Blocked so both sides stay in cache on large matrices.
                let block = 32
                var i0 = 0
                while i0 < r {
                    let i1 = min(i0 + block, r)
                    var j0 = 0
                    while j0 < c {
                        let j1 = min(j0 + block, c)
                        for i in i0..<i1 {
                            for j in j0..<j1 { dst[j * r + i] = src[i * c + j] }
                        }
                        j0 = j1
                    }
                    i0 = i1
                }
            }
        }
        // Shape and count are consistent by construction.
        return try! CostMatrix(rows: c, cols: r, costs: out)
    }

    /// Number of allowed (finite) entries.
    public var allowedCount: Int { costs.reduce(0) { $0 + ($1 < .infinity ? 1 : 0) } }
}

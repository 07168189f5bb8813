/// The result of a linear assignment solve: which column each row got and the total cost.
///
/// Exactly `min(rows, cols)` pairs are assigned; each row and each column appears at most once.
public struct Assignment: Sendable, Equatable {
    /// Number of rows of the instance.
    public let rows: Int
    /// Number of columns of the instance.
    public let cols: Int
    /// For each row, its column, or -1 when the row is left unassigned (only when rows > cols).
    public let columnForRow: [Int]
    /// Sum of the assigned pairs' costs, added in row order.
    public let totalCost: Double

    /// Builds a result; `totalCost` is given by the solver that knows the costs.
    public init(rows: Int, cols: Int, columnForRow: [Int], totalCost: Double) {
        self.rows = rows
        self.cols = cols
        self.columnForRow = columnForRow
        self.totalCost = totalCost
    }

    /// The assigned pairs, sorted by row.
    public var pairs: [(row: Int, col: Int)] {
        var out: [(row: Int, col: Int)] = []
        out.reserveCapacity(min(rows, cols))
        for (i, j) in columnForRow.enumerated() where j >= 0 { out.append((i, j)) }
        return out
    }

    /// For each column, its row, or -1.
    public var rowForColumn: [Int] {
        var out = [Int](repeating: -1, count: cols)
        for (i, j) in columnForRow.enumerated() where j >= 0 { out[j] = i }
        return out
    }

    /// Number of assigned pairs.
    public var matchedCount: Int { columnForRow.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}

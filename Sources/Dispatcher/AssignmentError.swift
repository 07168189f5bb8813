/// Why an assignment instance could not be solved.
///
/// Thrown by `LinearAssignment`; the instance's own numbers travel with the error so a caller
/// can log them without keeping the matrix around.
public enum AssignmentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No matching of size `min(rows, cols)` exists: forbidden pairs cut every such matching.
    /// `matchedBeforeFailure` is how many pairs the solver had placed when it proved it.
    case infeasible(rows: Int, cols: Int, matchedBeforeFailure: Int)
    /// A cost was NaN or negative infinity (positive infinity means "forbidden" and is fine).
    case invalidCost(row: Int, col: Int)
    /// The cost storage does not fit the stated shape (dense count, CSR offsets or a column index).
    case malformedMatrix(reason: String)

    public var description: String {
        switch self {
        case let .infeasible(rows, cols, matched):
            "no matching of size \(min(rows, cols)) exists for a \(rows)x\(cols) instance "
                + "(forbidden pairs block it; \(matched) pairs were placed)"
        case let .invalidCost(row, col):
            "cost at row \(row), column \(col) is NaN or -infinity"
        case let .malformedMatrix(reason):
            "malformed cost matrix: \(reason)"
        }
    }
}

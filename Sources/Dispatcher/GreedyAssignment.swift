/// A fast, non-optimal baseline: rows in order each take their cheapest still-free column.
///
/// Used as the benchmark baseline (`assign/greedy`) and by the greedy dispatch policy. May leave
/// a row unassigned when forbidden pairs block it even if a full matching exists.
public enum GreedyAssignment {
    /// Row-by-row cheapest free column; ties go to the lowest column index.
    public static func solve(_ matrix: CostMatrix) -> Assignment {
        let r = matrix.rows, c = matrix.cols
        var taken = [Bool](repeating: false, count: c)
        var col4row = [Int](repeating: -1, count: r)
        var total = 0.0
        matrix.costs.withUnsafeBufferPointer { p in
            for i in 0..<r {
                var best = Double.infinity, bj = -1
                for j in 0..<c where !taken[j] && p[i * c + j] < best {
                    best = p[i * c + j]
                    bj = j
                }
                if bj >= 0 {
                    taken[bj] = true
                    col4row[i] = bj
                    total += best
                }
            }
        }
        return Assignment(rows: r, cols: c, columnForRow: col4row, totalCost: total)
    }
}

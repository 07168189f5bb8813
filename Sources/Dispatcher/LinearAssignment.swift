/// Exact minimum-cost linear assignment (rectangular, dense or sparse) by shortest augmenting paths.
///
/// The algorithm is the Jonker–Volgenant family's shortest augmenting path method in the rectangular
/// form described by D. F. Crouse, "On implementing 2D rectangular assignment algorithms",
/// IEEE Trans. Aerospace and Electronic Systems 52(4), 2016: with `n = min(rows, cols)` on the
/// short side, each free short-side vertex is matched by one Dijkstra search over reduced costs
/// `c[i][j] - u[i] - v[j]`, then the duals are updated so every reduced cost stays non-negative
/// and matched pairs stay tight. Column duals only ever decrease from 0 and unmatched columns keep
/// `v = 0`, which is what makes the rectangular answer optimal without padding to a square.
///
/// Before the searches, a row reduction (`u[i] = min_j c[i][j]`, `v = 0`) matches every row whose
/// cheapest column is still free; on ties the search prefers a free column, so degenerate
/// instances (all-equal costs) finish in near-linear time per row.
///
/// - Complexity: O(n² · m) worst case dense (n ≤ m); typically far less. Sparse: O(n · E log E)
///   worst case with a binary heap, touching only the columns a search reaches.
public enum LinearAssignment {
    /// Solves a dense instance exactly. `.infinity` entries are forbidden pairs.
    /// - Throws: `AssignmentError.infeasible` when no matching of size `min(rows, cols)` exists;
    ///   `AssignmentError.invalidCost` on NaN or `-infinity`.
    public static func solve(_ matrix: CostMatrix) throws(AssignmentError) -> Assignment {
        let r = matrix.rows, c = matrix.cols
        if r == 0 || c == 0 {
            return Assignment(rows: r, cols: c, columnForRow: [Int](repeating: -1, count: r), totalCost: 0)
        }
        try validate(matrix)
        if r <= c {
            let col4row = try matrix.costs.withUnsafeBufferPointer { (p) throws(AssignmentError) -> [Int] in
                var solver = DenseAugmentingPath(costs: p.baseAddress!, rows: r, cols: c)
                return try solver.run()
            }
            return finish(rows: r, cols: c, col4row: col4row) { i, j in matrix.costs[i * c + j] }
        }
        let t = matrix.transposed()
        let row4col = try t.costs.withUnsafeBufferPointer { (p) throws(AssignmentError) -> [Int] in
            var solver = DenseAugmentingPath(costs: p.baseAddress!, rows: c, cols: r)
            do throws(AssignmentError) { return try solver.run() } catch { throw swapped(error) }
        }
        var col4row = [Int](repeating: -1, count: r)
        for (j, i) in row4col.enumerated() { col4row[i] = j }
        return finish(rows: r, cols: c, col4row: col4row) { i, j in matrix.costs[i * c + j] }
    }

    /// Solves a sparse (CSR) instance exactly; pairs not listed are forbidden.
    /// - Throws: `AssignmentError.infeasible` when no matching of size `min(rows, cols)` exists.
    public static func solve(_ matrix: SparseCostMatrix) throws(AssignmentError) -> Assignment {
        let r = matrix.rows, c = matrix.cols
        if r == 0 || c == 0 {
            return Assignment(rows: r, cols: c, columnForRow: [Int](repeating: -1, count: r), totalCost: 0)
        }
        if r <= c {
            let solver = SparseAugmentingPath(matrix)
            let col4row = try solver.run()
            return finish(rows: r, cols: c, col4row: col4row) { i, j in matrix.cost(row: i, col: j) ?? .nan }
        }
        let solver = SparseAugmentingPath(matrix.transposed())
        let row4col: [Int]
        do throws(AssignmentError) { row4col = try solver.run() } catch { throw swapped(error) }
        var col4row = [Int](repeating: -1, count: r)
        for (j, i) in row4col.enumerated() { col4row[i] = j }
        return finish(rows: r, cols: c, col4row: col4row) { i, j in matrix.cost(row: i, col: j) ?? .nan }
    }

    /// Rejects NaN and `-infinity` before any search (they would poison the duals).
    static func validate(_ m: CostMatrix) throws(AssignmentError) {
        var bad = -1
        m.costs.withUnsafeBufferPointer { p in
            for k in 0..<p.count where p[k].isNaN || p[k] == -.infinity {
                bad = k
                return
            }
        }
        if bad >= 0 { throw .invalidCost(row: bad / m.cols, col: bad % m.cols) }
    }

    /// An infeasibility found on the transposed instance, reported in the caller's orientation.
    static func swapped(_ e: AssignmentError) -> AssignmentError {
        if case let .infeasible(rows, cols, matched) = e { return .infeasible(rows: cols, cols: rows, matchedBeforeFailure: matched) }
        return e
    }

    static func finish(rows: Int, cols: Int, col4row: [Int], cost: (Int, Int) -> Double) -> Assignment {
        var total = 0.0
        for (i, j) in col4row.enumerated() where j >= 0 { total += cost(i, j) }
        return Assignment(rows: rows, cols: cols, columnForRow: col4row, totalCost: total)
    }
}

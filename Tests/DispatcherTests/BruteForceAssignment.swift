@testable import Dispatcher

/// The obvious twin: exact minimum over all matchings of size min(R, C) by DP over column subsets.
/// Returns nil when no such matching exists. Only for tiny instances (min side ≤ 8, long side ≤ 12).
enum BruteForceAssignment {
    static func optimum(_ m: CostMatrix) -> Double? {
        let t = m.rows <= m.cols ? m : m.transposed()
        let n = t.rows, c = t.cols
        if n == 0 { return 0 }
        // best[mask] = min cost matching the first popcount(mask) rows onto the columns in mask.
        var best = [Double](repeating: .infinity, count: 1 << c)
        best[0] = 0
        for mask in 0..<(1 << c) {
            let i = mask.nonzeroBitCount
            guard i < n, best[mask] < .infinity else { continue }
            for j in 0..<c where mask & (1 << j) == 0 {
                let x = t[i, j]
                guard x < .infinity else { continue }
                let next = mask | (1 << j)
                best[next] = min(best[next], best[mask] + x)
            }
        }
        var out = Double.infinity
        for mask in 0..<(1 << c) where mask.nonzeroBitCount == n { out = min(out, best[mask]) }
        return out < .infinity ? out : nil
    }
}

/// Checks that `a` is a valid assignment of `m`: each row and column at most once, no forbidden
/// pair, exactly min(R, C) pairs, and the pairs' costs add up to `a.totalCost`. Returns the problems.
func validationProblems(_ a: Assignment, of m: CostMatrix) -> [String] {
    var problems: [String] = []
    if a.columnForRow.count != m.rows { problems.append("columnForRow has \(a.columnForRow.count) rows") }
    var used = Set<Int>(), sum = 0.0, count = 0
    for (i, j) in a.columnForRow.enumerated() where j >= 0 {
        if j >= m.cols { problems.append("row \(i) -> column \(j) out of range"); continue }
        if !used.insert(j).inserted { problems.append("column \(j) used twice") }
        if !m.isAllowed(row: i, col: j) { problems.append("row \(i) -> column \(j) is forbidden") }
        sum += m[i, j]
        count += 1
    }
    if count != min(m.rows, m.cols) { problems.append("\(count) pairs, want \(min(m.rows, m.cols))") }
    if abs(sum - a.totalCost) > 1e-9 * max(1, abs(sum)) { problems.append("pairs sum to \(sum), total says \(a.totalCost)") }
    return problems
}

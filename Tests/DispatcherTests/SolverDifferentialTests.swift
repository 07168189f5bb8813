import Testing
import TestSupport
@testable import Dispatcher

/// The dense (Jonker–Volgenant block search) and sparse (heap Dijkstra) solvers share no search
/// code, so agreement on instances too big for brute force is a strong check on both.
@Suite("Dense and sparse solvers agree")
struct SolverDifferentialTests {
    @Test("random mid-size instances with ties and forbidden pairs get the same optimum", arguments: UInt64(1)...UInt64(30))
    func agree(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let r = Int.random(in: 1...70, using: &rng), c = Int.random(in: 1...70, using: &rng)
        let range = [2, 10, 1_000][Int(seed % 3)]
        let forbid = [0.0, 0.3, 0.8][Int(seed / 3 % 3)]
        var m = CostMatrix(rows: r, cols: c, repeating: 0)
        for i in 0..<r {
            for j in 0..<c {
                m[i, j] = Double.random(in: 0..<1, using: &rng) < forbid ? .infinity : Double(Int.random(in: 0...range, using: &rng))
            }
        }
        let label = "seed \(seed) \(r)x\(c) range \(range) forbid \(forbid)"
        let dense: Assignment, sparse: Assignment
        do {
            dense = try LinearAssignment.solve(m)
        } catch {
            // Both must agree on infeasibility too.
            #expect(throws: AssignmentError.self, "\(label): dense infeasible, sparse not") { try LinearAssignment.solve(SparseCostMatrix(m)) }
            return
        }
        sparse = try LinearAssignment.solve(SparseCostMatrix(m))
        #expect(dense.totalCost == sparse.totalCost, "\(label)")
        #expect(validationProblems(dense, of: m) == [], "\(label)")
        #expect(validationProblems(sparse, of: m) == [], "\(label)")
    }
}

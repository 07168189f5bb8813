import Testing
import TestSupport
@testable import Dispatcher

@Suite("Linear assignment against brute force")
struct LinearAssignmentPropertyTests {
    enum Flavor: String, CaseIterable { case integers, floats, ties, allEqual, negative }

    static func randomInstance(_ rng: inout SeededRandom, flavor: Flavor, forbidProbability: Double) -> CostMatrix {
        let r = Int.random(in: 1...7, using: &rng), c = Int.random(in: 1...7, using: &rng)
        var m = CostMatrix(rows: r, cols: c, repeating: 0)
        for i in 0..<r {
            for j in 0..<c {
                if Double.random(in: 0..<1, using: &rng) < forbidProbability {
                    m[i, j] = .infinity
                    continue
                }
                switch flavor {
                case .integers: m[i, j] = Double(Int.random(in: 0...100, using: &rng))
                case .floats: m[i, j] = Double.random(in: 0..<2000, using: &rng)
                case .ties: m[i, j] = Double(Int.random(in: 0...2, using: &rng))
                case .allEqual: m[i, j] = 7
                case .negative: m[i, j] = Double(Int.random(in: -50...50, using: &rng))
                }
            }
        }
        return m
    }

    @Test("dense and sparse solvers reach the brute-force optimum or report infeasible", arguments: Flavor.allCases)
    func matchesBruteForce(flavor: Flavor) throws {
        var failures = 0
        print("LinearAssignmentPropertyTests: flavor \(flavor), seeds 0..<400 (each failure names its seed)")
        for seed in UInt64(0)..<400 {
            var rng = SeededRandom(seed: seed &* 7919 &+ UInt64(Flavor.allCases.firstIndex(of: flavor)!))   // stable across runs
            let forbid = [0.0, 0.2, 0.5, 0.75][Int(seed % 4)]
            let m = Self.randomInstance(&rng, flavor: flavor, forbidProbability: forbid)
            let want = BruteForceAssignment.optimum(m)
            for sparse in [false, true] {
                let label = "seed \(seed) flavor \(flavor) \(m.rows)x\(m.cols) forbid \(forbid) \(sparse ? "sparse" : "dense")"
                do {
                    let got = sparse ? try LinearAssignment.solve(SparseCostMatrix(m)) : try LinearAssignment.solve(m)
                    guard let want else {
                        failures += 1
                        Issue.record("\(label): solved (\(got.totalCost)) but brute force finds no full matching")
                        continue
                    }
                    let problems = validationProblems(got, of: m)
                    if !problems.isEmpty || abs(got.totalCost - want) > 1e-9 * max(1, abs(want)) {
                        failures += 1
                        Issue.record("\(label): total \(got.totalCost), want \(want); \(problems)")
                    }
                } catch .infeasible {
                    if let want {
                        failures += 1
                        Issue.record("\(label): reported infeasible, brute force finds \(want)")
                    }
                } catch {
                    failures += 1
                    Issue.record("\(label): unexpected \(error)")
                }
                if failures > 20 { return }
            }
        }
        #expect(failures == 0)
    }

    @Test("an all-equal square instance costs n times the value, with every row matched")
    func allEqualSquare() throws {
        let m = CostMatrix(rows: 100, cols: 100, repeating: 3)
        let a = try LinearAssignment.solve(m)
        #expect(a.totalCost == 300)
        #expect(validationProblems(a, of: m).isEmpty)
    }

    @Test("tall and wide instances match exactly min(rows, cols) pairs")
    func rectangularBothWays() throws {
        var rng = SeededRandom(seed: 42)
        for (r, c) in [(3, 9), (9, 3), (1, 5), (5, 1)] {
            var m = CostMatrix(rows: r, cols: c, repeating: 0)
            for i in 0..<r { for j in 0..<c { m[i, j] = Double(Int.random(in: 0...9, using: &rng)) } }
            let a = try LinearAssignment.solve(m)
            let b = try LinearAssignment.solve(SparseCostMatrix(m))
            #expect(a.matchedCount == min(r, c))
            #expect(a.totalCost == BruteForceAssignment.optimum(m))
            #expect(b.totalCost == a.totalCost)
        }
    }

    @Test("an instance with no full matching is a typed infeasible error, dense and sparse")
    func infeasibleIsTyped() throws {
        // Rows 0 and 1 can only use column 0.
        var m = CostMatrix(rows: 3, cols: 3, repeating: .infinity)
        m[0, 0] = 1; m[1, 0] = 2; m[2, 1] = 3; m[2, 2] = 4
        #expect(throws: AssignmentError.self) { try LinearAssignment.solve(m) }
        do {
            _ = try LinearAssignment.solve(SparseCostMatrix(m))
            Issue.record("sparse solve should throw")
        } catch {
            guard case .infeasible(let rows, let cols, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(rows == 3 && cols == 3)
        }
        // A tall instance whose only allowed column is shared is infeasible when transposed too.
        var tall = CostMatrix(rows: 4, cols: 2, repeating: .infinity)
        tall[0, 0] = 1; tall[1, 0] = 1
        #expect(throws: AssignmentError.self) { try LinearAssignment.solve(tall) }
    }

    @Test("NaN and -infinity costs are rejected, not solved")
    func badCosts() throws {
        var m = CostMatrix(rows: 2, cols: 2, repeating: 1)
        m[1, 0] = .nan
        #expect(throws: AssignmentError.invalidCost(row: 1, col: 0)) { try LinearAssignment.solve(m) }
        m[1, 0] = -.infinity
        #expect(throws: AssignmentError.invalidCost(row: 1, col: 0)) { try SparseCostMatrix(m) }
    }

    @Test("malformed CSR arrays are rejected with a reason")
    func malformedCSR() {
        #expect(throws: AssignmentError.self) {
            try SparseCostMatrix(rows: 2, cols: 2, rowStart: [0, 1], columns: [0], costs: [1])
        }
        #expect(throws: AssignmentError.self) {
            try SparseCostMatrix(rows: 1, cols: 2, rowStart: [0, 2], columns: [1, 1], costs: [1, 2])
        }
        #expect(throws: AssignmentError.self) {
            try SparseCostMatrix(rows: 1, cols: 2, rowStart: [0, 1], columns: [5], costs: [1])
        }
        #expect(throws: AssignmentError.self) { try CostMatrix(rows: 2, cols: 2, costs: [1, 2, 3]) }
    }

    @Test("empty instances solve to zero")
    func empty() throws {
        let a = try LinearAssignment.solve(CostMatrix(rows: 0, cols: 5, repeating: 1))
        #expect(a.totalCost == 0 && a.pairs.isEmpty)
        let b = try LinearAssignment.solve(CostMatrix(rows: 3, cols: 0, repeating: 1))
        #expect(b.columnForRow == [-1, -1, -1])
    }
}

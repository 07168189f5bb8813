import Foundation
import Testing
import TestSupport
@testable import Dispatcher

@Suite("Shared assignment instances")
struct SharedInstanceTests {
    static let names = [
        "tiny-dense", "tiny-sparse", "equal-100", "ties-300", "rect-tall-dense", "rect-tall-sparse",
        "rect-wide-dense", "rect-wide-sparse", "square-200-dense", "square-200-sparse",
        "square-1000-dense", "square-1000-sparse", "rect-800x1200-dense", "rect-800x1200-sparse",
    ]

    static func load(_ name: String) throws -> (AssignmentInstance, Double) {
        let data = try Data(contentsOf: SharedData.url("assignment/\(name).txt"))
        let instance = try data.withUnsafeBytes { (p) throws(AssignmentParseError) in try AssignmentInstance(parsing: p) }
        let optText = try String(contentsOf: SharedData.url("assignment/\(name).opt"), encoding: .utf8)
        let opt = try #require(Double(optText.trimmingCharacters(in: .whitespacesAndNewlines)))
        return (instance, opt)
    }

    @Test("the automatic solver reaches NAME.opt with a valid assignment", arguments: names)
    func reachesOptimum(name: String) throws {
        let (instance, opt) = try Self.load(name)
        let a = try instance.solve()
        #expect(validationProblems(a, of: instance.matrix) == [], "\(name)")
        #expect(abs(a.totalCost - opt) <= 1e-9 * max(1, abs(opt)), "\(name): \(a.totalCost) vs \(opt)")
    }

    @Test("the other solver (dense vs sparse) agrees on the mid-size instances",
          arguments: ["square-200-dense", "square-200-sparse", "rect-tall-sparse", "rect-wide-dense", "ties-300", "equal-100"])
    func otherSolverAgrees(name: String) throws {
        let (instance, opt) = try Self.load(name)
        let dense = try LinearAssignment.solve(instance.matrix)
        let sparse = try LinearAssignment.solve(SparseCostMatrix(instance.matrix))
        #expect(validationProblems(dense, of: instance.matrix) == [])
        #expect(validationProblems(sparse, of: instance.matrix) == [])
        #expect(abs(dense.totalCost - opt) <= 1e-9 * max(1, abs(opt)))
        #expect(abs(sparse.totalCost - opt) <= 1e-9 * max(1, abs(opt)))
    }

    @Test("sparse files are parsed as sparse, dense files as dense")
    func densityChoice() throws {
        #expect(try Self.load("square-200-sparse").0.prefersSparse)
        #expect(try !Self.load("square-200-dense").0.prefersSparse)
    }
}

import ArgumentParser
import Dispatcher
import Foundation

/// `hexfleet match --input FILE`: solves one assignment instance exactly.
///
/// Prints the optimal total cost on the first line (Swift's shortest round-trip `Double` text),
/// then one `row col` line per assigned pair, 0-based and sorted by row. `--timing` adds
/// `solve <ms> ms` on stderr, measuring the solver only (not parsing or printing).
struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Solve a minimum-cost assignment instance exactly.",
        discussion: """
            The input's first line is `R C`; then R lines of C costs separated by spaces, `-` for a \
            forbidden pair. Output: the optimal total, then `row col` per assigned pair (0-based, by row). \
            The sparse solver is used when at most half the pairs are allowed, the dense one otherwise.
            """)

    @Option(name: .long, help: "The instance file (`R C` header, then R lines of C costs or `-`).")
    var input: String

    @Flag(name: .long, help: "Print `solve <milliseconds> ms` (solver only, no parsing) to stderr.")
    var timing = false

    @Option(name: .long, help: "Solver: auto (by density), dense or sparse.")
    var solver: SolverChoice = .auto

    enum SolverChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, dense, sparse
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: input) else {
            printToStderr("error: cannot read \(input)")
            throw ExitCode.failure
        }
        let instance: AssignmentInstance
        do {
            instance = try data.withUnsafeBytes { (p) throws(AssignmentParseError) in try AssignmentInstance(parsing: p) }
        } catch {
            printToStderr("error: \(input): \(error)")
            throw ExitCode.failure
        }
        // The solver's input is built before the clock starts: `--timing` measures the solve only.
        let useSparse = solver == .sparse || (solver == .auto && instance.prefersSparse)
        var sparse: SparseCostMatrix? = nil
        if useSparse {
            do {
                sparse = try SparseCostMatrix(instance.matrix)
            } catch {
                printToStderr("error: \(input): \(error)")
                throw ExitCode.failure
            }
        }
        let result: Assignment
        let clock = ContinuousClock()
        let started = clock.now
        do {
            if let sparse {
                result = try LinearAssignment.solve(sparse)
            } else {
                result = try LinearAssignment.solve(instance.matrix)
            }
        } catch {
            printToStderr("error: \(input): \(error)")
            throw ExitCode.failure
        }
        let elapsed = clock.now - started
        if timing {
            let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
            printToStderr("solve \(String(format: "%.3f", ms)) ms")
        }
        var out = "\(result.totalCost)\n"
        out.reserveCapacity(16 + result.columnForRow.count * 12)
        for (i, j) in result.columnForRow.enumerated() where j >= 0 {
            out += "\(i) \(j)\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    private func printToStderr(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

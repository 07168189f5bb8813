import ArgumentParser
import Dispatcher
import Foundation

/// `hexfleet plan --input FILE`: plans pickup-and-delivery routes for one JSON instance (docs/dispatch.md).
///
/// Writes one JSON answer on stdout. A malformed instance, or one whose promised stops cannot be kept, is an
/// error on stderr naming the JSON path (`error: FILE: orders[3].deadline: …`) with exit status 1.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan courier routes (pickups and drop-offs) for one JSON instance.",
        discussion: """
            Input: {"matrix":[[s,…],…],"couriers":[{"id","start","available_at","capacity","stops"}],\
            "orders":[{"id","pickup","dropoff","ready_at","deadline","max_ride","service"}]}. Output: \
            {"routes":[{"courier","steps":[{"order","type","arrival","start"}]}],"unassigned":[ids],"cost":s}. \
            Serves as many orders as possible, then minimises total travel seconds.
            """)

    @Option(name: .long, help: "The instance file (JSON).")
    var input: String

    @Option(name: .long, help: "Wall-clock cap in milliseconds (default 30000; the search normally ends first: 3000 + 60 × orders iterations, or 2000 + 40 × orders without progress).")
    var timeLimitMs: Int?

    @Option(name: .long, help: "Seed of the search's random choices.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print `plan <ms> ms, <n> iterations` to stderr.")
    var stats = false

    func validate() throws {
        guard (timeLimitMs ?? 0) >= 0 else { throw ValidationError("--time-limit-ms must be non-negative") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: input) else {
            printToStderr("error: cannot read \(input)")
            throw ExitCode.failure
        }
        let plan: RoutePlan
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let instance = try PlanInstance.parse(data)
            let budget = timeLimitMs.map(Double.init) ?? RoutePlannerOptions.defaultTimeLimitMs(orderCount: instance.orders.count)
            plan = try RoutePlanner.plan(instance, options: RoutePlannerOptions.forCommandLine(
                timeLimitMs: budget, orderCount: instance.orders.count, seed: seed))
        } catch {
            printToStderr("error: \(input): \(error)")
            throw ExitCode.failure
        }
        if stats {
            let elapsed = clock.now - started
            let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
            printToStderr("plan \(String(format: "%.1f", ms)) ms, \(plan.searchIterations) iterations")
        }
        var out = plan.json()
        out.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(Data(out))
    }

    private func printToStderr(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

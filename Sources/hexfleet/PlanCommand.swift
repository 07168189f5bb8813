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

    @Option(name: .long, help: "Search budget in milliseconds (default 1000; the search also stops when it stalls).")
    var timeLimitMs: Int = 1_000

    @Option(name: .long, help: "Seed of the search's random choices.")
    var seed: UInt64 = 1

    func validate() throws {
        guard timeLimitMs >= 0 else { throw ValidationError("--time-limit-ms must be non-negative") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: input) else {
            printToStderr("error: cannot read \(input)")
            throw ExitCode.failure
        }
        let plan: RoutePlan
        do {
            let instance = try PlanInstance.parse(data)
            plan = try RoutePlanner.plan(instance, options: RoutePlannerOptions.forCommandLine(
                timeLimitMs: Double(timeLimitMs), orderCount: instance.orders.count, seed: seed))
        } catch {
            printToStderr("error: \(input): \(error)")
            throw ExitCode.failure
        }
        var out = plan.json()
        out.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(Data(out))
    }

    private func printToStderr(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

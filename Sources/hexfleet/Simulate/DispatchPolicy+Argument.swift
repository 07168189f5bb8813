import ArgumentParser
import Dispatcher

/// `--policy greedy|batch`: the simulator's names for the policies (`DispatchPolicy.simulatorName`), not the raw
/// values the engine reports, so the flag and the report's `policy` field read the same.
extension DispatchPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(simulatorName: argument) }

    public var defaultValueDescription: String { simulatorName }

    public static var allValueStrings: [String] { allCases.map(\.simulatorName) }

    // The names are their own description; the raw-value default would print "optimal" beside "batch".
    public static var allValueDescriptions: [String: String] { [:] }

    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

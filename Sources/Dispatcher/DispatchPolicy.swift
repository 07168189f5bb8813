/// How a round turns candidate pairs into assignments.
///
/// A policy goes by two names, both fixed interfaces: the raw value is the engine's (`/v1/dispatch/stats`,
/// benchmark labels: "greedy", "optimal"); `simulatorName` is the one `hexfleet simulate --policy` takes and its
/// report prints ("greedy", "batch"). Both are spelled here and nowhere else.
public enum DispatchPolicy: String, Sendable, CaseIterable {
    /// First come, first served: each order, oldest first, takes its cheapest still-free courier.
    case greedyNearest = "greedy"
    /// One exact minimum-cost matching over the whole batch (`LinearAssignment`, sparse), with an
    /// "unassigned" option per order priced at `DispatchConfig.unassignedPenalty`.
    case batchOptimal = "optimal"

    /// The name `hexfleet simulate --policy` takes and the simulator's report prints: "greedy" or "batch".
    public var simulatorName: String {
        switch self {
        case .greedyNearest: "greedy"
        case .batchOptimal: "batch"
        }
    }

    /// The policy a simulator name stands for ("greedy" or "batch"); nil for any other string, the engine's
    /// "optimal" included, so the simulator's flag accepts exactly what its documentation lists.
    public init?(simulatorName: String) {
        guard let policy = Self.allCases.first(where: { $0.simulatorName == simulatorName }) else { return nil }
        self = policy
    }
}

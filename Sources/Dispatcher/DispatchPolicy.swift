/// How a round turns candidate pairs into assignments.
public enum DispatchPolicy: String, Sendable, CaseIterable {
    /// First come, first served: each order, oldest first, takes its cheapest still-free courier.
    case greedyNearest = "greedy"
    /// One exact minimum-cost matching over the whole batch (`LinearAssignment`, sparse), with an
    /// "unassigned" option per order priced at `DispatchConfig.unassignedPenalty`.
    case batchOptimal = "optimal"
}

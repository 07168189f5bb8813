import Vocabulary

/// The outcome of a dispatch round: a value handed back to the loop.
public struct DispatchPlan: Sendable {
    /// Pairs to offer, in order arrival order.
    public var assignments: [ProposedAssignment]
    /// Orders left waiting (no candidate, or outbid), in arrival order.
    public var unassigned: [OrderID]
    /// Candidate pairs priced (after filters and the ETA cap).
    public var candidatePairCount: Int
    /// Distinct couriers that were candidates of some order.
    public var candidateCourierCount: Int
    /// Sum of the assigned pairs' costs.
    public var totalCost: Double { assignments.reduce(0) { $0 + $1.cost } }
}

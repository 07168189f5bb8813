/// One proposed (order, courier) pair of a round; the loop turns it into an offer.
public struct ProposedAssignment: Sendable, Hashable {
    public var order: OrderID
    public var courier: CourierID
    /// Pickup ETA from the round's ETA provider.
    public var pickupETASeconds: Double
    /// The pair's cost under the round's cost model.
    public var cost: Double
}

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

/// A dispatch round could not run.
public enum DispatchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ETA provider failed.
    case eta(ETAProviderError)
    /// The ETA provider returned the wrong number of entries.
    case etaShape(expected: Int, got: Int)
    /// The matching failed (cannot happen with the unassigned option; kept typed rather than trapping).
    case assignment(AssignmentError)

    public var description: String {
        switch self {
        case .eta(let e): "\(e)"
        case let .etaShape(expected, got): "ETA provider returned \(got) entries, expected \(expected)"
        case .assignment(let e): "assignment failed: \(e)"
        }
    }
}

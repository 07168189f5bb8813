import Vocabulary

/// Tunables of a dispatch round.
public struct DispatchConfig: Sendable, Equatable {
    /// Candidate search radius for a fresh order.
    public var baseRadiusMeters: Double = 3_000
    /// How fast the radius widens while an order waits.
    public var radiusGrowthMetersPerMinute: Double = 1_000
    /// The radius never exceeds this.
    public var maxRadiusMeters: Double = 15_000
    /// Nearest candidates kept per order (before the ETA filter).
    public var maxCandidatesPerOrder: Int = 30
    /// Statuses a candidate may have.
    public var candidateStatuses: StatusFilter = .available
    /// Pairs whose pickup ETA exceeds this are dropped.
    public var maxPickupETASeconds: Double = 1_800
    /// Batch-optimal only: the cost of leaving an order for a later round. Any real pair cheaper
    /// than this is preferred to no courier; keep it well above the largest pair cost.
    public var unassignedPenalty: Double = 100_000
    /// The pair pricing.
    public var costModel = DispatchCostModel()

    /// The defaults above.
    public init() {}

    /// The search radius for an order that has waited `waitedSeconds`.
    public func searchRadiusMeters(waitedSeconds: Double) -> Double {
        min(maxRadiusMeters, baseRadiusMeters + radiusGrowthMetersPerMinute * max(0, waitedSeconds) / 60)
    }
}

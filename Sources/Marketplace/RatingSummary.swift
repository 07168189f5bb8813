import Storage
import Synchronization

/// A subject's rating as the API and the dispatch cost model see it.
public struct RatingSummary: Sendable, Equatable {
    /// Number of ratings.
    public var count: Int64
    /// Plain mean of the stars (0 when none).
    public var mean: Double
    /// Bayesian average: (C·m + Σstars) / (C + n), with the prior's weight C and mean m.
    public var bayesian: Double
}

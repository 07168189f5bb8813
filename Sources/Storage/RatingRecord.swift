import Vocabulary

/// A stored rating.
public struct RatingRecord: Sendable, Equatable {
    /// The order rated.
    public var orderID: OrderID
    /// Who rated whom.
    public var direction: RatingDirection
    /// The rater's id.
    public var raterID: UInt64
    /// The subject's id (courier or customer, by direction).
    public var subjectID: UInt64
    /// 1…5.
    public var stars: Int
    /// Optional text.
    public var comment: String?
    /// When, ms since the epoch.
    public var createdAtMs: Int64
}

import Vocabulary

/// A stored rating.
public struct RatingRecord: Sendable, Equatable {
    /// The order rated.
    public var orderID: OrderID
    /// Who rated whom.
    public var direction: RatingDirection
    /// The rater's id as text (a customer's opaque id or a courier's decimal id, by direction).
    public var raterID: String
    /// The subject's id (courier or customer, by direction).
    public var subjectID: String
    /// 1…5.
    public var stars: Int
    /// Optional text.
    public var comment: String?
    /// When, ms since the epoch.
    public var createdAtMs: Int64
}

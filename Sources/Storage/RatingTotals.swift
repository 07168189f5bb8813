/// Running totals for one subject, kept in the same transaction as each rating.
public struct RatingTotals: Sendable, Equatable, Hashable {
    /// Courier or customer.
    public var kind: RatingSubjectKind
    /// The subject's id.
    public var subjectID: String
    /// Number of ratings.
    public var count: Int64
    /// Sum of stars.
    public var starsSum: Int64

    /// Totals for one subject.
    public init(kind: RatingSubjectKind, subjectID: String, count: Int64, starsSum: Int64) {
        self.kind = kind
        self.subjectID = subjectID
        self.count = count
        self.starsSum = starsSum
    }
}

/// Who rates whom. Raw values are the column and wire spelling.
public enum RatingDirection: String, Sendable, CaseIterable, Hashable {
    /// The customer rates the courier.
    case customerToCourier = "customer_to_courier"
    /// The courier rates the customer.
    case courierToCustomer = "courier_to_customer"

    /// The kind of subject rated in this direction (`courier` or `customer`).
    public var subjectKind: RatingSubjectKind { self == .customerToCourier ? .courier : .customer }
}

/// Whose totals a rating adds to.
public enum RatingSubjectKind: String, Sendable, CaseIterable, Hashable {
    case courier, customer
}

/// A rating to add: 1–5 stars and an optional comment (≤ 500 characters).
public struct NewRating: Sendable, Equatable {
    /// The order rated; it must be `delivered`.
    public var orderID: OrderID
    /// The direction; the rater must be the order's customer or courier accordingly.
    public var direction: RatingDirection
    /// Id of the rater (a customer id or courier id, by direction).
    public var raterID: UInt64
    /// 1…5.
    public var stars: Int
    /// Optional text, at most 500 characters.
    public var comment: String?

    /// A rating; validated by the store (`invalid_input`).
    public init(orderID: OrderID, direction: RatingDirection, raterID: UInt64, stars: Int, comment: String? = nil) {
        self.orderID = orderID
        self.direction = direction
        self.raterID = raterID
        self.stars = stars
        self.comment = comment
    }
}

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

/// Running totals for one subject, kept in the same transaction as each rating.
public struct RatingTotals: Sendable, Equatable, Hashable {
    /// Courier or customer.
    public var kind: RatingSubjectKind
    /// The subject's id.
    public var subjectID: UInt64
    /// Number of ratings.
    public var count: Int64
    /// Sum of stars.
    public var starsSum: Int64

    /// Totals for one subject.
    public init(kind: RatingSubjectKind, subjectID: UInt64, count: Int64, starsSum: Int64) {
        self.kind = kind
        self.subjectID = subjectID
        self.count = count
        self.starsSum = starsSum
    }
}

import Vocabulary

/// A rating to add: 1–5 stars and an optional comment (≤ 500 characters).
public struct NewRating: Sendable, Equatable {
    /// The order rated; it must be `delivered`.
    public var orderID: OrderID
    /// The direction; the rater must be the order's customer or courier accordingly.
    public var direction: RatingDirection
    /// Id of the rater as text: a customer's opaque id or a courier's decimal id, by direction.
    public var raterID: String
    /// 1…5.
    public var stars: Int
    /// Optional text, at most 500 characters.
    public var comment: String?

    /// A rating; validated by the store (`invalid_input`).
    public init(orderID: OrderID, direction: RatingDirection, raterID: String, stars: Int, comment: String? = nil) {
        self.orderID = orderID
        self.direction = direction
        self.raterID = raterID
        self.stars = stars
        self.comment = comment
    }
}

/// Who rates whom. Raw values are the column and wire spelling.
public enum RatingDirection: String, Sendable, CaseIterable, Hashable {
    /// The customer rates the courier.
    case customerToCourier = "customer_to_courier"
    /// The courier rates the customer.
    case courierToCustomer = "courier_to_customer"

    /// The kind of subject rated in this direction (`courier` or `customer`).
    public var subjectKind: RatingSubjectKind { self == .customerToCourier ? .courier : .customer }
}

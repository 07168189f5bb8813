import Vocabulary

/// A filter for listing orders, newest first.
public struct OrderQuery: Sendable, Equatable {
    /// Only this customer's orders.
    public var customerID: CustomerID?
    /// Only orders assigned to this courier.
    public var courierID: CourierID?
    /// Only orders in one of these statuses.
    public var statuses: Set<OrderStatus>?
    /// Only orders with a smaller id (the cursor of the next page: the last id of the previous one).
    public var beforeID: OrderID?
    /// At most this many (clamped to 1…1000).
    public var limit: Int

    /// A filter; nil fields do not filter.
    public init(customerID: CustomerID? = nil, courierID: CourierID? = nil, statuses: Set<OrderStatus>? = nil,
                beforeID: OrderID? = nil, limit: Int = 100) {
        self.customerID = customerID
        self.courierID = courierID
        self.statuses = statuses
        self.beforeID = beforeID
        self.limit = limit
    }
}

import Vocabulary

/// A request to move an order to another status, checked atomically inside the write transaction.
///
/// The store refuses it with `invalid_transition` unless the current status has a graph edge to `to`
/// (`OrderStatus.successors`) and, when `allowedFrom` is set, the current status is in it (the
/// Marketplace's per-role rules). `forbidden` when `requireCustomer`/`requireCourier` do not match the order.
public struct OrderTransitionRequest: Sendable, Equatable {
    /// The order.
    public var orderID: OrderID
    /// The status wanted.
    public var to: OrderStatus
    /// Who asks; written to the event log.
    public var actor: ActorRef
    /// Extra restriction on the current status, or nil for the graph alone.
    public var allowedFrom: Set<OrderStatus>?
    /// When set, the order must belong to this customer.
    public var requireCustomer: CustomerID?
    /// When set, the order must be assigned to this courier.
    public var requireCourier: CourierID?
    /// Courier to assign (for `dispatched`). A transition back to `quoted` clears the courier.
    public var assignCourier: CourierID?
    /// Reason for the event log (≤ 200 bytes kept).
    public var reason: String?

    /// A transition request; see the type's doc for the checks.
    public init(orderID: OrderID, to: OrderStatus, actor: ActorRef, allowedFrom: Set<OrderStatus>? = nil,
                requireCustomer: CustomerID? = nil, requireCourier: CourierID? = nil,
                assignCourier: CourierID? = nil, reason: String? = nil) {
        self.orderID = orderID
        self.to = to
        self.actor = actor
        self.allowedFrom = allowedFrom
        self.requireCustomer = requireCustomer
        self.requireCourier = requireCourier
        self.assignCourier = assignCourier
        self.reason = reason
    }
}

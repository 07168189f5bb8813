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

/// A filter for listing orders, newest first.
public struct OrderQuery: Sendable, Equatable {
    /// Only this customer's orders.
    public var customerID: CustomerID?
    /// Only orders assigned to this courier.
    public var courierID: CourierID?
    /// Only orders in one of these statuses.
    public var statuses: Set<OrderStatus>?
    /// At most this many (clamped to 1…1000).
    public var limit: Int

    /// A filter; nil fields do not filter.
    public init(customerID: CustomerID? = nil, courierID: CourierID? = nil, statuses: Set<OrderStatus>? = nil,
                limit: Int = 100) {
        self.customerID = customerID
        self.courierID = courierID
        self.statuses = statuses
        self.limit = limit
    }
}

/// What a committed transition answers: the order after it, and the status it left.
public struct TransitionOutcome: Sendable, Equatable {
    /// The order as committed.
    public var order: OrderRecord
    /// The status before the transition.
    public var from: OrderStatus

    /// An outcome.
    public init(order: OrderRecord, from: OrderStatus) {
        self.order = order
        self.from = from
    }
}

import Vocabulary

/// A compare-and-set on one order's status, checked atomically inside the write transaction.
///
/// The store knows no transition graph: it moves the order to `to` only if its committed status is one of
/// `from`, and refuses it with `invalid_transition` otherwise. The caller computes `from` (the Marketplace's
/// `OrderLifecycle`, from its graph and the actor's role), so the rules live there and the check stays atomic
/// here. `forbidden` when `requireCustomer`/`requireCourier` do not match the order.
public struct OrderTransitionRequest: Sendable, Equatable {
    /// The order.
    public var orderID: OrderID
    /// The statuses the order may be in now; any other committed status refuses the change. Empty refuses always.
    public var from: Set<OrderStatus>
    /// The status wanted.
    public var to: OrderStatus
    /// Who asks; written to the event log.
    public var actor: ActorRef
    /// When set, the order must belong to this customer.
    public var requireCustomer: CustomerID?
    /// When set, the order must be assigned to this courier.
    public var requireCourier: CourierID?
    /// Courier to assign (for `dispatched`). A transition back to `quoted` clears the courier.
    public var assignCourier: CourierID?
    /// Reason for the event log (≤ 200 bytes kept).
    public var reason: String?

    /// A transition request; see the type's doc for the checks.
    public init(orderID: OrderID, from: Set<OrderStatus>, to: OrderStatus, actor: ActorRef,
                requireCustomer: CustomerID? = nil, requireCourier: CourierID? = nil,
                assignCourier: CourierID? = nil, reason: String? = nil) {
        self.orderID = orderID
        self.from = from
        self.to = to
        self.actor = actor
        self.requireCustomer = requireCustomer
        self.requireCourier = requireCourier
        self.assignCourier = assignCourier
        self.reason = reason
    }
}

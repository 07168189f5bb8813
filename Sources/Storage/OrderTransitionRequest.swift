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

extension OrderTransitionRequest {
    /// Why the request cannot be tried at all (checked before any SQL), or nil.
    var invalidity: StorageError? {
        to == .dispatched && assignCourier == nil ? StorageError(.invalidInput, "dispatching needs a courier") : nil
    }

    /// Checks the request against `order` as committed (owner, courier, the compare-and-set on its status) and
    /// applies it: status, courier and update time. Both stores call it inside the write's transaction.
    /// - Returns: the status the order had.
    func apply(to order: inout OrderRecord, nowMs: Int64) throws(StorageError) -> OrderStatus {
        if let c = requireCustomer, c != order.customerID {
            throw StorageError(.forbidden, "order \(order.id) belongs to another customer")
        }
        if let c = requireCourier, c != order.courierID {
            throw StorageError(.forbidden, "order \(order.id) is not assigned to courier \(c)")
        }
        // The compare-and-set: the caller named the statuses it expects; the store knows no graph.
        let from = order.status
        guard self.from.contains(from) else {
            throw StorageError(.invalidTransition, "order \(order.id) cannot go from \(from.rawValue) to \(to.rawValue)")
        }
        switch to {
        case .dispatched: order.courierID = assignCourier
        case .quoted: order.courierID = nil
        default: break
        }
        order.status = to
        order.updatedAtMs = nowMs
        return from
    }
}

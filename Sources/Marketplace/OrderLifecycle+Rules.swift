import Storage
import Vocabulary

/// Who may take which edge of the graph (docs/pricing.md, "Order rules"):
///
/// | step | who | from |
/// |---|---|---|
/// | cancel | customer (own order) | created, quoted, dispatched, accepted (before pick-up) |
/// | cancel | dispatcher, admin, system | any non-terminal (before delivery) |
/// | dispatch | dispatcher, admin, system | quoted |
/// | accept | assigned courier, admin | dispatched |
/// | decline | assigned courier, admin, system, dispatcher (offer timeout) | dispatched → back to quoted |
/// | pick up | assigned courier, admin | accepted |
/// | deliver | assigned courier, admin | picked_up |
/// | fail | assigned courier | accepted, picked_up |
/// | fail | dispatcher, admin, system | any non-terminal |
///
/// A role not in the table is `forbidden` at once; the rest is checked by the store against the committed row
/// (`invalid_transition` for a status outside the permit's `from`, `forbidden` for another customer or courier).
extension OrderLifecycle {
    /// A status change someone asks for; each leads to one status (`target`).
    public enum Step: Sendable, CaseIterable, Hashable {
        case cancel, dispatch, accept, decline, pickUp, deliver, fail

        /// The status the step leads to.
        public var target: OrderStatus {
            switch self {
            case .cancel: return .cancelled
            case .dispatch: return .dispatched
            case .accept: return .accepted
            case .decline: return .quoted
            case .pickUp: return .pickedUp
            case .deliver: return .delivered
            case .fail: return .failed
            }
        }
    }

    /// What one actor may do with one step: the statuses the order may be in (the graph's edges into `to`,
    /// narrowed by the actor's role), and whose order it must be.
    public struct Permit: Sendable, Equatable {
        /// The status wanted.
        public var to: OrderStatus
        /// The statuses the order may be in now; never holds a status without an edge to `to`.
        public var from: Set<OrderStatus>
        /// When set, the order must belong to this customer.
        public var requireCustomer: CustomerID?
        /// When set, the order must be assigned to this courier.
        public var requireCourier: CourierID?

        /// A permit for the edges into `to`, narrowed to `only` when given.
        init(_ to: OrderStatus, only: Set<OrderStatus>? = nil,
             customer: CustomerID? = nil, courier: CourierID? = nil) {
            let edges = OrderLifecycle.predecessors(of: to)
            self.to = to
            self.from = only.map { edges.intersection($0) } ?? edges
            self.requireCustomer = customer
            self.requireCourier = courier
        }

        /// The store's compare-and-set request for this permit on one order.
        public func request(orderID: OrderID, actor: ActorRef, assignCourier: CourierID? = nil,
                            reason: String? = nil) -> OrderTransitionRequest {
            OrderTransitionRequest(orderID: orderID, from: from, to: to, actor: actor,
                                   requireCustomer: requireCustomer, requireCourier: requireCourier,
                                   assignCourier: assignCourier, reason: reason)
        }
    }

    /// What `actor` may do with `step`, under the rules in the table above.
    ///
    /// - Throws: `forbidden` when the actor's role may never take the step (the message says who may).
    public static func permit(_ step: Step, by actor: ActorRef) throws(MarketplaceError) -> Permit {
        switch (step, actor.role) {
        case (.cancel, .customer):
            guard let customer = actor.customerID else { throw MarketplaceError(.forbidden, "the actor names no valid customer id") }
            return Permit(.cancelled, only: [.created, .quoted, .dispatched, .accepted], customer: customer)
        case (.cancel, .dispatcher), (.cancel, .admin), (.cancel, .system):
            return Permit(.cancelled)
        case (.cancel, .courier):
            throw MarketplaceError(.forbidden, "couriers decline or fail orders; they cannot cancel")

        case (.dispatch, .system), (.dispatch, .dispatcher), (.dispatch, .admin):
            return Permit(.dispatched, only: [.quoted])
        case (.dispatch, _):
            throw MarketplaceError(.forbidden, "only dispatch assigns couriers")

        case (.decline, .system), (.decline, .dispatcher):
            return Permit(.quoted, only: [.dispatched])
        case (.decline, _):
            return try courierStep(.quoted, only: [.dispatched], actor)
        case (.accept, _):
            return try courierStep(.accepted, only: [.dispatched], actor)
        case (.pickUp, _):
            return try courierStep(.pickedUp, only: [.accepted], actor)
        case (.deliver, _):
            return try courierStep(.delivered, only: [.pickedUp], actor)

        case (.fail, .courier):
            return Permit(.failed, only: [.accepted, .pickedUp], courier: try courier(actor))
        case (.fail, .dispatcher), (.fail, .admin), (.fail, .system):
            return Permit(.failed)
        case (.fail, .customer):
            throw MarketplaceError(.forbidden, "customers cancel; they cannot fail orders")
        }
    }

    /// The courier a courier actor is; a courier whose id is not a number may do nothing.
    private static func courier(_ actor: ActorRef) throws(MarketplaceError) -> CourierID {
        guard let id = actor.courierID else { throw MarketplaceError(.forbidden, "the actor names no numeric courier id") }
        return id
    }

    /// A step only the assigned courier (or an admin, for any courier) takes.
    private static func courierStep(_ to: OrderStatus, only: Set<OrderStatus>,
                                    _ actor: ActorRef) throws(MarketplaceError) -> Permit {
        switch actor.role {
        case .courier: return Permit(to, only: only, courier: try courier(actor))
        case .admin: return Permit(to, only: only)
        default: throw MarketplaceError(.forbidden, "only the assigned courier may do this")
        }
    }
}

import Foundation
import Storage
import Testing
@testable import Marketplace
import Vocabulary

@Suite("Order state machine")
struct OrderLifecycleTests {
    /// The picture in `OrderLifecycle`'s doc, written out edge by edge: the obvious twin of `successors(of:)`.
    static let pictureEdges: Set<[OrderStatus]> = [
        [.created, .quoted], [.quoted, .dispatched], [.dispatched, .accepted], [.accepted, .pickedUp],
        [.pickedUp, .delivered], [.dispatched, .quoted],
        [.created, .cancelled], [.quoted, .cancelled], [.dispatched, .cancelled], [.accepted, .cancelled],
        [.pickedUp, .cancelled],
        [.created, .failed], [.quoted, .failed], [.dispatched, .failed], [.accepted, .failed], [.pickedUp, .failed],
    ]

    static let nonTerminal: Set<OrderStatus> = [.created, .quoted, .dispatched, .accepted, .pickedUp]

    @Test("the graph has exactly the picture's 16 edges; predecessors invert successors; terminal statuses have no way out and every other can be cancelled or failed")
    func graph() {
        var edges: Set<[OrderStatus]> = []
        for from in OrderStatus.allCases {
            for to in OrderLifecycle.successors(of: from) { edges.insert([from, to]) }
            #expect(OrderLifecycle.successors(of: from).isEmpty == from.isTerminal, "\(from)")
            if !from.isTerminal {
                #expect(OrderLifecycle.canTransition(from: from, to: .cancelled), "\(from)")
                #expect(OrderLifecycle.canTransition(from: from, to: .failed), "\(from)")
            }
        }
        #expect(edges == Self.pictureEdges)
        for from in OrderStatus.allCases {
            for to in OrderStatus.allCases {
                let edge = Self.pictureEdges.contains([from, to])
                #expect(OrderLifecycle.canTransition(from: from, to: to) == edge, "\(from) → \(to)")
                #expect(OrderLifecycle.predecessors(of: to).contains(from) == edge, "\(from) → \(to)")
            }
        }
        #expect(OrderLifecycle.predecessors(of: .created).isEmpty)
    }

    /// A new order of customer 7 moved to `status` (courier 3 from `dispatched` on) with requests that name the
    /// status it is in, so reaching a status does not lean on the graph under test.
    static func reach(_ status: OrderStatus, in store: SQLiteStore) throws -> OrderID {
        let path: [OrderStatus]
        switch status {
        case .created, .quoted: path = []
        case .dispatched: path = [.dispatched]
        case .accepted: path = [.dispatched, .accepted]
        case .pickedUp: path = [.dispatched, .accepted, .pickedUp]
        case .delivered: path = [.dispatched, .accepted, .pickedUp, .delivered]
        case .cancelled: path = [.cancelled]
        case .failed: path = [.failed]
        }
        let new = NewOrder(customerID: CustomerID(7), vehicle: "car", pickup: casino, dropoff: port,
                           quoteID: status == .created ? nil : "q", priceCents: 1234, currency: "EUR", surgeMilli: 1000,
                           distanceMeters: 1_800, durationSeconds: 420)
        let order = try store.createOrderAndWait(new, actor: .system).order
        var current = order.status
        for step in path {
            _ = try store.transitionOrderAndWait(OrderTransitionRequest(
                orderID: order.id, from: [current], to: step, actor: .system,
                assignCourier: step == .dispatched ? CourierID(3) : nil))
            current = step
        }
        #expect(try store.order(order.id)?.status == status)
        return order.id
    }

    @Test("every (from, to) pair through the store: the graph's edges commit with one event, every other pair is refused with invalid_transition")
    func everyPair() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let store = try dir.openStore(clock: TestClock())
        defer { store.close() }
        var refused = 0, allowed = 0
        for from in OrderStatus.allCases {
            for to in OrderStatus.allCases {
                let id = try Self.reach(from, in: store)
                let before = try store.events(of: id).count
                // An operator's request: the graph alone decides (no role narrows it).
                let request = OrderLifecycle.Permit(to).request(orderID: id, actor: ActorRef(.admin, 1),
                                                                assignCourier: to == .dispatched ? CourierID(4) : nil)
                if OrderLifecycle.canTransition(from: from, to: to) {
                    let after = try store.transitionOrderAndWait(request)
                    #expect(after.status == to)
                    let events = try store.events(of: id)
                    #expect(events.count == before + 1)
                    #expect(events.last?.from == from && events.last?.to == to && events.last?.actor == ActorRef(.admin, 1))
                    allowed += 1
                } else {
                    #expect(throws: StorageError(.invalidTransition,
                                                 "order \(id) cannot go from \(from.rawValue) to \(to.rawValue)")) {
                        try store.transitionOrderAndWait(request)
                    }
                    #expect(try store.order(id)?.status == from)
                    #expect(try store.events(of: id).count == before)
                    refused += 1
                }
            }
        }
        #expect(allowed == OrderStatus.allCases.reduce(0) { $0 + OrderLifecycle.successors(of: $1).count })
        #expect(allowed == 16)
        #expect(refused == 64 - allowed)
    }

    /// What a role may do with a step, as docs/pricing.md's "Order rules" table says.
    enum Expected: Equatable {
        case forbidden(String)
        case from(Set<OrderStatus>, Require)
    }
    enum Require { case nothing, ownOrder, assignedCourier }

    static let rules: [OrderLifecycle.Step: [ActorRef.Role: Expected]] = {
        let courierOnly = "only the assigned courier may do this"
        let dispatchOnly = Expected.forbidden("only dispatch assigns couriers")
        return [
            .cancel: [
                .customer: .from([.created, .quoted, .dispatched, .accepted], .ownOrder),
                .courier: .forbidden("couriers decline or fail orders; they cannot cancel"),
                .dispatcher: .from(nonTerminal, .nothing), .admin: .from(nonTerminal, .nothing),
                .system: .from(nonTerminal, .nothing),
            ],
            .dispatch: [
                .customer: dispatchOnly, .courier: dispatchOnly,
                .dispatcher: .from([.quoted], .nothing), .admin: .from([.quoted], .nothing), .system: .from([.quoted], .nothing),
            ],
            .accept: [
                .customer: .forbidden(courierOnly), .courier: .from([.dispatched], .assignedCourier),
                .dispatcher: .forbidden(courierOnly), .admin: .from([.dispatched], .nothing), .system: .forbidden(courierOnly),
            ],
            .decline: [
                .customer: .forbidden(courierOnly), .courier: .from([.dispatched], .assignedCourier),
                .dispatcher: .from([.dispatched], .nothing), .admin: .from([.dispatched], .nothing),
                .system: .from([.dispatched], .nothing),
            ],
            .pickUp: [
                .customer: .forbidden(courierOnly), .courier: .from([.accepted], .assignedCourier),
                .dispatcher: .forbidden(courierOnly), .admin: .from([.accepted], .nothing), .system: .forbidden(courierOnly),
            ],
            .deliver: [
                .customer: .forbidden(courierOnly), .courier: .from([.pickedUp], .assignedCourier),
                .dispatcher: .forbidden(courierOnly), .admin: .from([.pickedUp], .nothing), .system: .forbidden(courierOnly),
            ],
            .fail: [
                .customer: .forbidden("customers cancel; they cannot fail orders"),
                .courier: .from([.accepted, .pickedUp], .assignedCourier),
                .dispatcher: .from(nonTerminal, .nothing), .admin: .from(nonTerminal, .nothing),
                .system: .from(nonTerminal, .nothing),
            ],
        ]
    }()

    @Test("every step for every role matches the rules table: the statuses it may start from, whose order it must be, or forbidden with its message", arguments: OrderLifecycle.Step.allCases)
    func roleRules(step: OrderLifecycle.Step) throws {
        let row = try #require(Self.rules[step])
        for role in ActorRef.Role.allCases {
            let actor = ActorRef(role, 42)
            let want = try #require(row[role], "\(step) \(role)")
            switch want {
            case .forbidden(let message):
                #expect(throws: MarketplaceError(.forbidden, message), "\(step) \(role)") {
                    try OrderLifecycle.permit(step, by: actor)
                }
            case .from(let from, let require):
                let permit = try OrderLifecycle.permit(step, by: actor)
                #expect(permit.to == step.target, "\(step) \(role)")
                #expect(permit.from == from, "\(step) \(role)")
                #expect(permit.from.isSubset(of: OrderLifecycle.predecessors(of: step.target)), "\(step) \(role)")
                #expect(permit.requireCustomer == (require == .ownOrder ? CustomerID(42) : nil), "\(step) \(role)")
                #expect(permit.requireCourier == (require == .assignedCourier ? CourierID(42) : nil), "\(step) \(role)")
                let request = permit.request(orderID: OrderID(9), actor: actor, assignCourier: CourierID(5), reason: "r")
                #expect(request == OrderTransitionRequest(orderID: OrderID(9), from: from, to: step.target, actor: actor,
                                                          requireCustomer: permit.requireCustomer,
                                                          requireCourier: permit.requireCourier,
                                                          assignCourier: CourierID(5), reason: "r"))
            }
        }
    }
}

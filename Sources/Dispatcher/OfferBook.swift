import Vocabulary

/// The offer state machine, owned by the loop (deliberately not `Sendable`).
///
/// Lifecycle of a pair: `offer` → open → `accept` (order assigned, courier busy until
/// `releaseCourier`) | `decline` | deadline passes and `expire(nowMs:)` runs | `withdraw`.
/// A declined or expired order returns to the queue (`.returnedToQueue`), and that courier is never
/// offered that order again. A courier holds at most one open offer and an order has at most one.
/// Every change appends `OfferEvent`s; the loop takes them with `drainEvents()` for notifications.
///
/// With `stacking`, a courier may hold several accepted orders at once (its route's capacity is the caller's to
/// check): an offer to a courier with accepted orders is allowed, and it stays busy until the last is completed.
public final class OfferBook {
    /// How long a courier has to answer.
    public let timeoutMs: Int64
    /// Whether a courier with accepted orders may be offered more.
    public let stacking: Bool
    /// Open offers by order.
    public private(set) var openOffers: [OrderID: Offer] = [:]
    private var openByCourier: [CourierID: OrderID] = [:]
    /// Accepted orders and their couriers.
    public private(set) var assignedOrders: [OrderID: CourierID] = [:]
    /// Accepted orders of each courier, in acceptance order.
    private var busy: [CourierID: [OrderID]] = [:]
    /// Pairs that must never be offered again (declined or expired).
    public private(set) var excludedPairs: Set<OfferPair> = []
    private var events: [OfferEvent] = []

    /// A book whose offers time out after `timeoutMs` (default 15 s); `stacking` lets a courier hold several
    /// accepted orders.
    /// - Throws: `OfferError.invalidTimeout` when `timeoutMs <= 0`.
    public init(timeoutMs: Int64 = 15_000, stacking: Bool = false) throws(OfferError) {
        guard timeoutMs > 0 else { throw .invalidTimeout(timeoutMs) }
        self.timeoutMs = timeoutMs
        self.stacking = stacking
    }

    /// Couriers that cannot receive an offer now: holding one, or (without stacking) busy with an accepted order.
    public var busyCouriers: Set<CourierID> { stacking ? Set(openByCourier.keys) : Set(openByCourier.keys).union(busy.keys) }

    /// The accepted orders `courier` holds, in acceptance order.
    public func acceptedOrders(of courier: CourierID) -> [OrderID] { busy[courier] ?? [] }

    /// The earliest open deadline, for the loop's timer.
    public var nextDeadlineMs: Int64? { openOffers.values.map(\.expiresAtMs).min() }

    /// The open offer held by `courier`, if any.
    public func openOffer(heldBy courier: CourierID) -> Offer? { openByCourier[courier].flatMap { openOffers[$0] } }

    /// Offers `order` to `courier` until `nowMs + timeoutMs`.
    /// - Throws: `OfferError` when the order or courier already has an open offer, the order is
    ///   assigned, the courier is busy, or the courier declined this order before.
    @discardableResult
    public func offer(_ order: WaitingOrder, to courier: CourierID, nowMs: Int64) throws(OfferError) -> Offer {
        let pair = OfferPair(order: order.id, courier: courier)
        if assignedOrders[order.id] != nil { throw .orderAlreadyAssigned(order.id) }
        if openOffers[order.id] != nil { throw .orderHasOpenOffer(order.id) }
        if openByCourier[courier] != nil { throw .courierHasOpenOffer(courier) }
        if !stacking, busy[courier] != nil { throw .courierBusy(courier) }
        if excludedPairs.contains(pair) { throw .pairExcluded(pair) }
        let offer = Offer(order: order, courier: courier, offeredAtMs: nowMs, expiresAtMs: nowMs &+ timeoutMs)
        openOffers[order.id] = offer
        openByCourier[courier] = order.id
        events.append(.offered(offer))
        return offer
    }

    /// The courier accepts: the order is assigned, the courier busy until `releaseCourier`.
    /// - Throws: `.noOpenOffer` when this pair has no open offer; `.offerExpired` when the answer
    ///   is late (the offer is expired first, so the order returns to the queue).
    public func accept(order: OrderID, courier: CourierID, nowMs: Int64) throws(OfferError) {
        let offer = try open(order: order, courier: courier, nowMs: nowMs)
        close(offer)
        assignedOrders[order] = courier
        busy[courier, default: []].append(order)
        events.append(.accepted(order: order, courier: courier, atMs: nowMs))
    }

    /// The courier declines: the pair is excluded for good and the order returns to the queue.
    /// - Throws: `.noOpenOffer` or `.offerExpired` as `accept`.
    public func decline(order: OrderID, courier: CourierID, nowMs: Int64) throws(OfferError) {
        let offer = try open(order: order, courier: courier, nowMs: nowMs)
        close(offer)
        excludedPairs.insert(offer.pair)
        events.append(.declined(order: order, courier: courier, atMs: nowMs))
        events.append(.returnedToQueue(offer.order))
    }

    /// Expires every open offer whose deadline is at or before `nowMs`, oldest deadline first.
    /// - Returns: how many expired.
    @discardableResult
    public func expire(nowMs: Int64) -> Int {
        let due = openOffers.values.filter { $0.expiresAtMs <= nowMs }
            .sorted { ($0.expiresAtMs, $0.order.id) < ($1.expiresAtMs, $1.order.id) }
        for offer in due { expireOne(offer, atMs: nowMs) }
        return due.count
    }

    /// Takes back the open offer of `order`, if any (the order was cancelled): no exclusion and the
    /// order does not return to the queue. Returns whether an offer was open.
    @discardableResult
    public func withdraw(order: OrderID, nowMs: Int64) -> Bool {
        guard let offer = openOffers[order] else { return false }
        close(offer)
        events.append(.withdrawn(order: order, courier: offer.courier, atMs: nowMs))
        return true
    }

    /// Takes back the open offer held by `courier` (went offline): no exclusion; the order returns
    /// to the queue. Returns whether an offer was open.
    @discardableResult
    public func withdraw(courier: CourierID, nowMs: Int64) -> Bool {
        guard let offer = openOffer(heldBy: courier) else { return false }
        close(offer)
        events.append(.withdrawn(order: offer.order.id, courier: courier, atMs: nowMs))
        events.append(.returnedToQueue(offer.order))
        return true
    }

    /// The courier finished (or dropped) its accepted orders and may receive offers again; they
    /// leave the book. Returns the first order it was busy with.
    @discardableResult
    public func releaseCourier(_ courier: CourierID) -> OrderID? {
        guard let orders = busy.removeValue(forKey: courier) else { return nil }
        for order in orders { assignedOrders[order] = nil }
        return orders.first
    }

    /// Forgets an accepted order (delivered or cancelled); its courier is free once it holds no other.
    public func completeOrder(_ order: OrderID) {
        guard let courier = assignedOrders.removeValue(forKey: order) else { return }
        busy[courier]?.removeAll { $0 == order }
        if busy[courier]?.isEmpty == true { busy[courier] = nil }
    }

    /// Takes the events since the last call, in the order they happened.
    public func drainEvents() -> [OfferEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Checks the book's invariants; traps on a bug in this type (not on input).
    public func checkInvariants() {
        precondition(openOffers.count == openByCourier.count, "open offers by order and by courier disagree")
        for (order, offer) in openOffers {
            precondition(offer.order.id == order && openByCourier[offer.courier] == order, "offer index broken")
            precondition(stacking || busy[offer.courier] == nil, "a busy courier holds an open offer")
            precondition(assignedOrders[order] == nil, "an assigned order has an open offer")
            precondition(!excludedPairs.contains(offer.pair), "an excluded pair is open")
        }
        if !stacking {
            precondition(Set(assignedOrders.values).count == assignedOrders.count, "a courier holds two accepted orders")
        }
        precondition(busy.values.reduce(0) { $0 + $1.count } == assignedOrders.count, "accepted orders by courier and by order disagree")
        for (courier, orders) in busy {
            for order in orders { precondition(assignedOrders[order] == courier, "an accepted order's courier disagrees") }
        }
    }

    private func open(order: OrderID, courier: CourierID, nowMs: Int64) throws(OfferError) -> Offer {
        let pair = OfferPair(order: order, courier: courier)
        guard let offer = openOffers[order], offer.courier == courier else { throw .noOpenOffer(pair) }
        if nowMs >= offer.expiresAtMs {
            expireOne(offer, atMs: nowMs)
            throw .offerExpired(pair)
        }
        return offer
    }

    private func close(_ offer: Offer) {
        openOffers[offer.order.id] = nil
        openByCourier[offer.courier] = nil
    }

    private func expireOne(_ offer: Offer, atMs: Int64) {
        close(offer)
        excludedPairs.insert(offer.pair)
        events.append(.expired(order: offer.order.id, courier: offer.courier, atMs: atMs))
        events.append(.returnedToQueue(offer.order))
    }
}

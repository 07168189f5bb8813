import Storage
import Vocabulary

/// Orders: creation from quotes with idempotency, and every status change with its role rules.
///
/// Each status change asks `OrderLifecycle` for the actor's permit (the graph's edges narrowed by the role, and
/// whose order it must be; its table is in `OrderLifecycle+Rules.swift` and docs/pricing.md, "Order rules") and
/// hands the store that compare-and-set request, which the store checks atomically against the committed row.
///
/// Completions run on the store's writer thread after the commit. Successful changes are published
/// to the notifier.
public final class OrderBook: Sendable {
    private let store: any Store
    private let pricer: Pricer
    private let notifier: Notifier?

    /// An order book over a store, a pricer (for quotes) and an optional notifier.
    public init(store: any Store, pricer: Pricer, notifier: Notifier?) {
        self.store = store
        self.pricer = pricer
        self.notifier = notifier
    }

    /// Creates an order from a live quote; the quote is used up (a second order with it gets
    /// `quote_not_found`), and given back if the order cannot be written.
    ///
    /// With an idempotency key: the same key and body answer the first order (`replayed`), even after
    /// its quote expired; the same key with another body fails with `idempotency_conflict`.
    /// Fails with `quote_not_found`, `quote_expired`, `quote_mismatch`, `invalid_input`.
    public func create(_ request: OrderRequest, idempotencyKey: String?,
                       completion: @escaping @Sendable (Result<CreateOrderOutcome, MarketplaceError>) -> Void) {
        let idem = idempotencyKey.map { IdempotencyRequest(key: $0, fingerprint: request.fingerprint) }
        if answeredFromStore(customer: request.customerID, idem, completion) { return }
        let quote: Quote
        do { quote = try pricer.liveQuote(request.quoteID) } catch {
            completion(.failure(error))
            return
        }
        if let why = Self.mismatch(request, quote) {
            completion(.failure(MarketplaceError(.quoteMismatch, why)))
            return
        }
        write(quote, timing: request.timing, idem: idem, completion)
    }

    /// Creates an order priced now (no quote given): the trip is quoted and the quote used at once.
    ///
    /// Idempotency works as for `create(_:idempotencyKey:completion:)`, with the trip's own fingerprint
    /// (customer, vehicle, points, notes). The fingerprint does not depend on the price, so there is no read
    /// before the write: the store's own check in the write transaction answers a retry with the first order
    /// (`replayed`, nothing written) or `idempotency_conflict`; a retry is priced once more and that price is
    /// dropped. Fails with the pricer's errors (`invalid_coordinate`, `unknown_vehicle`, `no_route`, …) and the
    /// store's.
    public func create(_ trip: TripRequest, idempotencyKey: String?,
                       completion: @escaping @Sendable (Result<CreateOrderOutcome, MarketplaceError>) -> Void) {
        let idem = idempotencyKey.map { IdempotencyRequest(key: $0, fingerprint: trip.fingerprint) }
        if let idem, idem.key.isEmpty || idem.key.utf8.count > 255 {
            completion(.failure(MarketplaceError(.invalidInput, "Idempotency-Key must be 1–255 bytes")))
            return
        }
        let quote: Quote
        do {
            quote = try pricer.quote(customer: trip.customerID, vehicle: trip.vehicle, pickup: trip.pickup,
                                     dropoff: trip.dropoff)
        } catch {
            completion(.failure(error))
            return
        }
        write(quote, timing: trip.timing, idem: idem, completion)
    }

    /// Answers a retry from the store (same key and body: the first order; another body: `idempotency_conflict`);
    /// false when the request must go on.
    private func answeredFromStore(customer: CustomerID, _ idem: IdempotencyRequest?,
                                   _ completion: @escaping @Sendable (Result<CreateOrderOutcome, MarketplaceError>) -> Void) -> Bool {
        guard let idem else { return false }
        guard !idem.key.isEmpty, idem.key.utf8.count <= 255 else {
            completion(.failure(MarketplaceError(.invalidInput, "Idempotency-Key must be 1–255 bytes")))
            return true
        }
        // A retry of a request that already succeeded answers from the store, whatever its quote became.
        do {
            guard let found = try store.idempotentOrder(customer: customer, key: idem.key) else { return false }
            if found.fingerprint == idem.fingerprint {
                completion(.success(CreateOrderOutcome(order: found.order, replayed: true)))
            } else {
                completion(.failure(MarketplaceError(.init("idempotency_conflict"),
                                                     "Idempotency-Key was used with a different request")))
            }
        } catch {
            completion(.failure(MarketplaceError(error)))
        }
        return true
    }

    /// Claims the quote (a quote buys one order) and writes the order; the quote is given back if the write fails.
    private func write(_ quote: Quote, timing: OrderTiming, idem: IdempotencyRequest?,
                       _ completion: @escaping @Sendable (Result<CreateOrderOutcome, MarketplaceError>) -> Void) {
        do { _ = try pricer.claimQuote(quote.id) } catch {
            completion(.failure(error))
            return
        }
        let pricer = self.pricer
        var new = NewOrder(customerID: quote.customerID, vehicle: quote.vehicle, pickup: quote.pickup,
                           dropoff: quote.dropoff, quoteID: quote.id, priceCents: quote.priceCents,
                           currency: quote.currency, surgeMilli: quote.surgeMilli,
                           distanceMeters: quote.distanceMeters, durationSeconds: quote.durationSeconds)
        new.timing = timing
        let notifier = self.notifier
        store.createOrder(new, idempotency: idem, actor: ActorRef(customer: quote.customerID)) { result in
            switch result {
            case .success(let out):
                if !out.replayed { notifier?.publish(.orderCreated(out.order)) }
                completion(.success(out))
            case .failure(let e):
                pricer.releaseQuote(quote)
                completion(.failure(MarketplaceError(e)))
            }
        }
    }

    /// Why the request does not match its quote, or nil.
    static func mismatch(_ request: OrderRequest, _ quote: Quote) -> String? {
        if quote.customerID != request.customerID { return "quote \(quote.id) was made for another customer" }
        if let v = request.vehicle, v != quote.vehicle { return "vehicle differs from the quote's" }
        if let p = request.pickup, p != quote.pickup { return "pick-up differs from the quote's" }
        if let d = request.dropoff, d != quote.dropoff { return "drop-off differs from the quote's" }
        return nil
    }

    /// Cancels an order under `OrderLifecycle`'s rules.
    public func cancel(_ id: OrderID, by actor: ActorRef, reason: String? = nil,
                       completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.cancel, id, by: actor, reason: reason, completion)
    }

    /// Assigns a courier (quoted → dispatched): the Dispatcher's offer.
    public func dispatch(_ id: OrderID, to courier: CourierID, by actor: ActorRef = .system,
                         completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.dispatch, id, by: actor, assignCourier: courier, reason: nil, completion)
    }

    /// The assigned courier accepts (dispatched → accepted).
    public func accept(_ id: OrderID, by actor: ActorRef,
                       completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.accept, id, by: actor, reason: nil, completion)
    }

    /// The assigned courier declines, or the offer timed out (`system`): back to quoted, courier cleared.
    public func decline(_ id: OrderID, by actor: ActorRef, reason: String = "declined",
                        completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.decline, id, by: actor, reason: reason, completion)
    }

    /// The assigned courier picked the order up (accepted → picked_up).
    public func pickUp(_ id: OrderID, by actor: ActorRef,
                       completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.pickUp, id, by: actor, reason: nil, completion)
    }

    /// The assigned courier delivered (picked_up → delivered).
    public func deliver(_ id: OrderID, by actor: ActorRef,
                        completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.deliver, id, by: actor, reason: nil, completion)
    }

    /// Marks an order failed (courier: after accepting; operators: any time before delivery).
    public func fail(_ id: OrderID, by actor: ActorRef, reason: String? = nil,
                     completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        take(.fail, id, by: actor, reason: reason, completion)
    }

    /// An order as `viewer` may see it: customers their own, couriers those assigned to them,
    /// operators any. Others get `order_not_found`, so ids do not leak.
    public func order(_ id: OrderID, viewer: ActorRef) throws(MarketplaceError) -> OrderRecord {
        let found: OrderRecord?
        do { found = try store.order(id) } catch { throw MarketplaceError(error) }
        guard let o = found else { throw MarketplaceError(.orderNotFound, "no order \(id)") }
        switch viewer.role {
        case .customer where o.customerID != viewer.customerID,
             .courier where o.courierID == nil || o.courierID != viewer.courierID:
            throw MarketplaceError(.orderNotFound, "no order \(id)")
        default:
            return o
        }
    }

    /// A page of an order's event log, oldest first, for a viewer who may see the order (as `order(_:viewer:)`):
    /// events after sequence `afterSequence`, at most `limit`.
    public func events(of id: OrderID, viewer: ActorRef, afterSequence: Int64,
                       limit: Int) throws(MarketplaceError) -> (order: OrderRecord, events: [OrderEvent]) {
        let o = try order(id, viewer: viewer)
        do { return (o, try store.events(of: id, afterSequence: afterSequence, limit: limit)) } catch {
            throw MarketplaceError(error)
        }
    }

    /// Lists orders, newest first; customers and couriers see only their own.
    public func list(_ query: OrderQuery, viewer: ActorRef) throws(MarketplaceError) -> [OrderRecord] {
        var q = query
        switch viewer.role {
        case .customer:
            guard let me = viewer.customerID else { return [] }
            q.customerID = me
        case .courier:
            guard let me = viewer.courierID else { return [] }
            q.courierID = me
        default: break
        }
        do { return try store.orders(q) } catch { throw MarketplaceError(error) }
    }

    // MARK: - plumbing

    /// Takes one step for `actor`: `forbidden` at once when its role may never take it, else the store's
    /// compare-and-set on the permit.
    private func take(_ step: OrderLifecycle.Step, _ id: OrderID, by actor: ActorRef, assignCourier: CourierID? = nil,
                      reason: String?, _ completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        let permit: OrderLifecycle.Permit
        do { permit = try OrderLifecycle.permit(step, by: actor) } catch {
            completion(.failure(error))
            return
        }
        change(permit.request(orderID: id, actor: actor, assignCourier: assignCourier, reason: reason), completion)
    }

    private func change(_ request: OrderTransitionRequest,
                        _ completion: @escaping @Sendable (Result<OrderRecord, MarketplaceError>) -> Void) {
        let notifier = self.notifier
        let store = self.store
        store.transitionOrder(request) { result in
            switch result {
            case .success(let outcome):
                notifier?.publish(.orderStatusChanged(outcome.order, from: outcome.from))
                completion(.success(outcome.order))
            case .failure(let e):
                completion(.failure(MarketplaceError(e)))
            }
        }
    }
}

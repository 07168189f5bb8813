import Dispatcher
import FleetIndex
import Foundation
import HTTPServer
import HexGeo
import JSON

extension APIError.Code {
    public static let offerNotFound = APIError.Code("offer_not_found", 404)
    public static let offerConflict = APIError.Code("offer_conflict", 409)
}

extension Engine {
    /// Starts the batching loop: every `dispatchIntervalMs` (or once `dispatchBatchSize` orders wait) a round
    /// runs on a worker; offers expire on the tick; accept/decline arrive over HTTP and the driver channel.
    func installDispatch() throws {
        let service = try DispatchService(policy: configuration.dispatchPolicy, intervalMs: configuration.dispatchIntervalMs,
                                          batchSize: configuration.dispatchBatchSize, offerTimeoutMs: configuration.offerTimeoutMs,
                                          useStraightLine: configuration.straightLineETA)
        dispatch = service
        tickHandlers.append { [unowned self] now in self.dispatchTick(now) }
        hooks.driverMessageHandlers.append { [unowned self] driver, op, message in
            guard op == "accept" || op == "decline" else { return false }
            let order = message["order"]?.uint64 ?? message["offer"]?.uint64
            let reply: [UInt8]
            if let order {
                do throws(APIError) {
                    try self.answerOffer(order: order, courier: driver.rawValue, accept: op == "accept")
                    reply = Array(#"{"type":"offer_\#(op)ed","order":\#(order)}"#.utf8)
                } catch {
                    reply = Array(#"{"type":"error","code":"\#(error.code.name)","message":"\#(error.message)"}"#.utf8)
                }
            } else {
                reply = Array(#"{"type":"error","code":"invalid_parameter","message":"order is required"}"#.utf8)
            }
            _ = self.hooks.pushToDriver(driver, reply)
            return true
        }
        extraRoutes.append { engine in
            engine.route(.get, "/v1/drivers/{id}/offers", Engine.getOffers)
            engine.route(.post, "/v1/orders/{id}/accept", Engine.postAccept)
            engine.route(.post, "/v1/orders/{id}/decline", Engine.postDecline)
            engine.route(.get, "/v1/dispatch/stats", Engine.getDispatchStats)
        }
    }

    /// Queues an order for the next round (the orders module calls this; so do tests).
    func enqueueForDispatch(_ order: WaitingOrder) {
        dispatch?.waiting.requeue(order)
    }

    /// Takes an order out of dispatch (cancelled): out of the queue, and its open offer withdrawn.
    func withdrawFromDispatch(_ order: UInt64) {
        guard let d = dispatch else { return }
        _ = d.waiting.remove(OrderID(order))
        _ = d.offers.withdraw(order: OrderID(order), nowMs: nowMs)
        drainOfferEvents()
    }

    /// Releases a courier after a delivery, so it can take new offers.
    func releaseCourier(_ courier: UInt64, order: UInt64) {
        guard let d = dispatch else { return }
        d.offers.completeOrder(OrderID(order))
        _ = d.offers.releaseCourier(CourierID(courier))
    }

    private func dispatchTick(_ now: Int64) {
        guard let d = dispatch else { return }
        if d.offers.expire(nowMs: now) > 0 { drainOfferEvents() }
        guard !d.roundInFlight, !d.waiting.waiting.isEmpty,
              now - d.lastRoundMs >= d.intervalMs || d.waiting.waiting.count >= d.batchSize else { return }
        let eta: any ETAProvider
        if let routing, !d.useStraightLine {
            eta = RoutingETAProvider(network: routing.network, weights: routing.weights)
        } else if d.useStraightLine {
            eta = StraightLineETAProvider()
        } else {
            return   // no graph and straight-line ETAs not enabled: orders wait (logged once at start)
        }
        d.lastRoundMs = now
        d.roundInFlight = true
        let round = DispatchRound(orders: d.waiting.waiting, couriers: d.courierSnapshot(table: table, nowMs: now), eta: eta,
                                  policy: d.policy, config: d.config, nowMs: now,
                                  excludedPairs: d.offers.excludedPairs, busyCouriers: d.offers.busyCouriers)
        let started = ContinuousClock.now
        do {
            try workers.run(round, { round -> Result<DispatchPlan, DispatchError> in
                do throws(DispatchError) { return .success(try round.run()) } catch { return .failure(error) }
            }) { [unowned self] result in
                d.roundInFlight = false
                d.rounds &+= 1
                let took = ContinuousClock.now - started
                d.lastRoundMicros = UInt64(took.components.seconds) * 1_000_000 + UInt64(took.components.attoseconds / 1_000_000_000_000)
                switch result {
                case .failure(let error):
                    d.roundErrors &+= 1
                    self.logger.warning("dispatch round failed", metadata: ["error": "\(error)"])
                case .success(let plan):
                    self.applyPlan(plan)
                }
            }
        } catch {
            d.roundInFlight = false
            d.roundErrors &+= 1
        }
    }

    /// Turns a plan into offers, skipping what changed while the round ran (order gone, courier busy).
    private func applyPlan(_ plan: DispatchPlan) {
        guard let d = dispatch else { return }
        let now = nowMs
        for a in plan.assignments {
            guard let order = d.waiting.waiting.first(where: { $0.id == a.order }) else { continue }
            guard let state = table.state(of: DriverID(a.courier.rawValue)), state.status == .available,
                  !table.isStale(state.id, nowMs: now) else { continue }
            do {
                _ = try d.offers.offer(order, to: a.courier, nowMs: now)
                _ = d.waiting.remove(a.order)
                d.offersMade &+= 1
                offerETAs[a.order.rawValue] = a.pickupETASeconds
            } catch {
                continue
            }
        }
        drainOfferEvents()
    }

    /// Pickup ETA of each order's latest offer, for the order's record.
    var offerETAs: [UInt64: Double] {
        get { dispatchOfferETAs }
        set { dispatchOfferETAs = newValue }
    }

    /// Delivers offer-book events: pushes to drivers, requeues, and tells the orders module.
    func drainOfferEvents() {
        guard let d = dispatch else { return }
        for event in d.offers.drainEvents() {
            switch event {
            case .offered(let offer):
                var w = JSONWriter()
                w.beginObject()
                w.key("type"); w.string("offer")
                w.key("order"); w.number(offer.order.id.rawValue)
                w.key("pickup"); w.beginArray(); w.number(offer.order.pickup.latitudeDegrees); w.number(offer.order.pickup.longitudeDegrees); w.endArray()
                w.key("expires_at_ms"); w.number(offer.expiresAtMs)
                if let eta = dispatchOfferETAs[offer.order.id.rawValue] { w.key("pickup_eta_s"); w.number(eta) }
                w.endObject()
                _ = hooks.pushToDriver(DriverID(offer.courier.rawValue), w.bytes)
            case .returnedToQueue(let order):
                d.waiting.requeue(order)
            case .withdrawn(let order, let courier, _):
                _ = hooks.pushToDriver(DriverID(courier.rawValue), Array(#"{"type":"offer_withdrawn","order":\#(order.rawValue)}"#.utf8))
            case .expired(let order, let courier, _):
                _ = hooks.pushToDriver(DriverID(courier.rawValue), Array(#"{"type":"offer_expired","order":\#(order.rawValue)}"#.utf8))
            case .accepted, .declined:
                break
            }
            for listener in offerListeners { listener(event) }
        }
    }

    /// Accepts or declines a courier's open offer of an order.
    func answerOffer(order: UInt64, courier: UInt64, accept: Bool) throws(APIError) {
        guard let d = dispatch else { throw APIError(.offerNotFound, "dispatch is not running") }
        do {
            if accept {
                try d.offers.accept(order: OrderID(order), courier: CourierID(courier), nowMs: nowMs)
            } else {
                try d.offers.decline(order: OrderID(order), courier: CourierID(courier), nowMs: nowMs)
            }
        } catch {
            switch error {
            case .noOpenOffer, .offerExpired: throw APIError(.offerNotFound, "\(error)")
            default: throw APIError(.offerConflict, "\(error)")
            }
        }
        drainOfferEvents()
    }

    /// The courier an offer answer is for: a driver acts for itself; admin/dispatcher name it with `?driver=`.
    private func offerCourier(_ request: HTTPRequest) throws(APIError) -> UInt64 {
        let caller = try require(request, [.driver, .dispatcher])
        if caller.role == .driver {
            guard let id = UInt64(caller.subject) else { throw APIError(.forbidden, "bad driver token") }
            return id
        }
        guard let text = request.query("driver"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "driver=ID is required when acting for a driver")
        }
        return id
    }

    func postAccept(_ request: HTTPRequest, _ responder: Responder) throws {
        let order = try Self.orderID(request)
        try answerOffer(order: order, courier: try offerCourier(request), accept: true)
        responder.respond(.json { w in w.beginObject(); w.key("order"); w.number(order); w.key("status"); w.string("accepted"); w.endObject() })
    }

    func postDecline(_ request: HTTPRequest, _ responder: Responder) throws {
        let order = try Self.orderID(request)
        try answerOffer(order: order, courier: try offerCourier(request), accept: false)
        responder.respond(.json { w in w.beginObject(); w.key("order"); w.number(order); w.key("status"); w.string("declined"); w.endObject() })
    }

    static func orderID(_ request: HTTPRequest) throws(APIError) -> UInt64 {
        guard let text = request.parameter("id"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "order id must be an unsigned 64-bit integer")
        }
        return id
    }

    /// `GET /v1/drivers/{id}/offers`: the poll endpoint for drivers without a WebSocket.
    func getOffers(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.driverID(request)
        let caller = try require(request, [.driver, .dispatcher])
        guard caller.role != .driver || caller.subject == String(id) else { throw APIError(.forbidden, "a driver sees only its own offers") }
        let offer = dispatch?.offers.openOffer(heldBy: CourierID(id))
        responder.respond(.json { w in
            w.beginObject(); w.key("offers"); w.beginArray()
            if let offer {
                w.beginObject()
                w.key("order"); w.number(offer.order.id.rawValue)
                w.key("pickup"); w.beginArray(); w.number(offer.order.pickup.latitudeDegrees); w.number(offer.order.pickup.longitudeDegrees); w.endArray()
                w.key("expires_at_ms"); w.number(offer.expiresAtMs)
                if let eta = dispatchOfferETAs[offer.order.id.rawValue] { w.key("pickup_eta_s"); w.number(eta) }
                w.endObject()
            }
            w.endArray(); w.endObject()
        })
    }

    /// `GET /v1/dispatch/stats` (dispatcher): queue length, open offers, rounds, last round time.
    func getDispatchStats(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try require(request, [.dispatcher])
        guard let d = dispatch else { throw APIError(.unavailable, "dispatch is not running") }
        responder.respond(.json { w in
            w.beginObject()
            w.key("policy"); w.string(d.policy.rawValue)
            w.key("waiting"); w.number(d.waiting.waiting.count)
            w.key("open_offers"); w.number(d.offers.openOffers.count)
            w.key("assigned"); w.number(d.offers.assignedOrders.count)
            w.key("rounds"); w.number(d.rounds)
            w.key("offers_made"); w.number(d.offersMade)
            w.key("round_errors"); w.number(d.roundErrors)
            w.key("last_round_us"); w.number(d.lastRoundMicros)
            w.key("eta"); w.string(d.useStraightLine ? "straight_line" : (routing == nil ? "none" : "routing"))
            w.endObject()
        })
    }
}

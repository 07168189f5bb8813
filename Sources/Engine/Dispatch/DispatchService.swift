import Dispatcher
import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import JSON
import HexGeo
import Logging
import Routing
import Vocabulary

extension APIError.Code {
    public static let offerNotFound = APIError.Code("offer_not_found", 404)
    public static let offerConflict = APIError.Code("offer_conflict", 409)
}

/// Dispatch, loop-owned: orders waiting for a courier, the offer book and the batching clock. Every
/// `dispatchIntervalMs` (or once `dispatchBatchSize` orders wait) a round's inputs leave the loop as values
/// (`DispatchRound` is `Sendable`), the solve runs on a worker, and the plan comes back to the loop, where it is
/// checked against what changed meanwhile. Offers go out through the driver channel and expire on the tick;
/// answers arrive over HTTP and the driver channel. Other services see offers only as `OfferEvent`s.
final class DispatchService: EngineService {
    var waiting = FIFOWaitingOrders()
    let offers: OfferBook
    let policy: DispatchPolicy
    var config = DispatchConfig()
    let intervalMs: Int64
    let batchSize: Int
    /// Straight-line ETAs only when asked for explicitly (the only way to dispatch without a road graph).
    let useStraightLine: Bool
    var roundInFlight = false
    var lastRoundMs: Int64 = 0
    /// A courier's rating for the cost model's optional rating term (orders supply it).
    var courierRating: ((CourierID) -> Double?)?
    /// Pickup ETA of each open offer, for the offer message and the poll endpoint; dropped once the offer closes.
    var offerETAs: [OrderID: Double] = [:]
    var offerListeners: [(OfferEvent) -> Void] = []
    /// Counters for /v1/dispatch/stats.
    var rounds: UInt64 = 0
    var offersMade: UInt64 = 0
    var roundErrors: UInt64 = 0
    var lastRoundMicros: UInt64 = 0

    // Stacking, plans and live ETAs (DispatchService+Plans.swift, +Stacking.swift, +ETA.swift).
    /// Whether rounds stack orders onto couriers' routes (`StackingRound`) rather than one order per idle courier.
    let stacking: Bool
    /// Each courier's promised stops; a courier without accepted orders has none.
    var plans: [CourierID: CourierPlan] = [:]
    /// Where each open offer's order would go in its courier's route, and that route's stops when offered.
    /// The order of each open offer (what an accept adds to the plan).
    var lastOffered: [OrderID: WaitingOrder] = [:]
    var pendingInsertions: [OrderID: (courier: CourierID, pickupAt: Int, dropoffAt: Int, stops: [CourierPlan.Stop])] = [:]
    /// Drop-off and times of an order (orders supply them); nil for orders queued without them.
    var orderDetails: ((OrderID) -> DispatchOrderDetails?)?
    /// Orders' latest computed ETAs, and the ones last sent to their watchers.
    var currentETAs: [OrderID: OrderETA] = [:]
    var sentETAs: [OrderID: OrderETA] = [:]
    var etaListeners: [(OrderID, [UInt8]) -> Void] = []
    var etaInFlight = false
    /// The loop's road-time workspace for quotes' promises, remade when the live weights change.
    var promiseQuery: (weights: ObjectIdentifier, query: RouteQuery)?
    /// Offers onto couriers already holding orders, and road queries of the last stacking round.
    var stackedOffers: UInt64 = 0
    var lastRoundRoadQueries = 0
    /// Seconds spent at each stop (parking, handing over), in plans and ETAs.
    var serviceSeconds: Double = 60
    /// Longest ride of an order that gives no `max_ride_s`: 40 minutes (food).
    var defaultMaxRideSeconds: Double = 2_400
    /// A courier busy only with drop-offs is offered a next pickup (forward dispatch) when its route ends within this.
    var forwardHorizonSeconds: Double = 900
    /// Stacking rounds hold an order until its food is at most this many seconds from ready, so that orders of one
    /// restaurant and direction meet in a round instead of each going out the moment it is created.
    let holdLeadSeconds: Double
    /// Stacking rounds price an insertion as added travel + this × the delivery delay it causes (`StackingRound`).
    let stackingDelayWeight: Double

    let table: DriverTable
    let roads: RoadState?
    /// Networks of the other loaded profiles: couriers who declared a bicycle or scooter route on them.
    let profileRoads: [RoutingProfile: RoadState]
    /// What each courier said it drives (driver channel `{"op":"vehicle","vehicle":"bicycle"}`); cars otherwise.
    var courierVehicles: [DriverID: VehicleType] = [:]
    let drivers: DriverChannel
    let auth: Authenticator
    let workers: WorkQueue
    let clock: EngineClock
    let logger: Logger

    init(configuration: EngineConfiguration, table: DriverTable, roads: RoadState?, drivers: DriverChannel,
         auth: Authenticator, workers: WorkQueue, clock: EngineClock, logger: Logger,
         profileRoads: [RoutingProfile: RoadState] = [:]) throws {
        policy = configuration.dispatchPolicy
        intervalMs = configuration.dispatchIntervalMs
        batchSize = configuration.dispatchBatchSize
        useStraightLine = configuration.straightLineETA
        stacking = configuration.dispatchStacking
        holdLeadSeconds = configuration.dispatchHoldLeadSeconds
        stackingDelayWeight = configuration.dispatchDelayWeight
        offers = try OfferBook(timeoutMs: configuration.offerTimeoutMs, stacking: configuration.dispatchStacking)
        self.table = table
        self.roads = roads
        self.profileRoads = profileRoads.filter { $0.key != .car }
        self.drivers = drivers
        self.auth = auth
        self.workers = workers
        self.clock = clock
        self.logger = logger
        drivers.onMessage { [unowned self] driver, op, message in self.driverMessage(driver, op, message) }
    }

    /// Cluster mode: asks the other shards the same request and hands over their answers (false when it cannot);
    /// nil for one engine.
    var askOtherShards: ((HTTPRequest, @escaping ([HTTPResponse]) -> Void) -> Bool)?
    /// Holds the reply to an offer's answer until the store has the answer (the orders module's write that follows it):
    /// `reply` gets nil once it committed, or the store's refusal; false when no write was asked for (reply at once).
    var whenAnswerWritten: ((OrderID, @escaping (APIError?) -> Void) -> Bool)?

    /// Calls `reply` once the answer just given for `order` is in the store (or refused there), so a courier told
    /// "accepted" holds the order even if this engine dies next; at once when nothing writes answers.
    private func afterAnswerWritten(_ order: OrderID, _ reply: @escaping (APIError?) -> Void) {
        if let whenAnswerWritten, whenAnswerWritten(order, reply) { return }
        reply(nil)
    }

    /// Cluster mode: runs an offer's answer at the shard holding the order (`OrdersService.atOrderOwner`); nil for one engine.
    var atOrderOwner: ((OrderID, HTTPRequest, Responder, @escaping () throws -> Void) throws -> Void)?
    /// Cluster mode: rounds also weigh couriers other shards hold near this shard's borders, and every candidate's
    /// orders on other shards (DispatchService+Border.swift); nil for one engine.
    var cluster: DispatchCluster?
    /// What the round in flight (or the last one) gathered from the cluster.
    var border = BorderRoundInputs()

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/drivers/{id}/offers", getOffers)
        routes.add(.post, "/v1/orders/{id}/accept", postAccept)
        routes.add(.post, "/v1/orders/{id}/decline", postDecline)
        routes.add(.get, "/v1/dispatch/stats", getDispatchStats)
        routes.add(.get, "/v1/drivers/{id}/route", getRoute)
    }

    // MARK: - what other services ask of dispatch

    /// Hears every offer event, in order (orders follow them with transitions; the demo's couriers answer).
    func onOfferEvent(_ listener: @escaping (OfferEvent) -> Void) {
        offerListeners.append(listener)
    }

    /// Lets the cost model's rating term read couriers' ratings: a star above or below 3 is worth
    /// `secondsPerStar` of pickup ETA.
    func useCourierRatings(secondsPerStar: Double, _ rating: @escaping (CourierID) -> Double?) {
        courierRating = rating
        config.costModel.ratingSecondsPerStar = secondsPerStar
    }

    /// Orders waiting for a round.
    var waitingCount: Int { waiting.waiting.count }

    /// Where the waiting orders are picked up (surge's demand).
    var waitingPickups: [LatLng] { waiting.waiting.map(\.pickup) }

    /// The pickup ETA (seconds) of `order`'s open offer, as sent to the courier.
    func pickupETASeconds(of order: OrderID) -> Double? { offerETAs[order] }

    /// Queues an order for the next round.
    func enqueue(_ order: WaitingOrder) {
        waiting.requeue(order)
    }

    /// Takes an order out of dispatch (cancelled): out of the queue, and its open offer withdrawn.
    func withdraw(_ order: OrderID) {
        _ = waiting.remove(order)
        _ = offers.withdraw(order: order, nowMs: clock.nowMs)
        drainOfferEvents()
    }

    /// Releases a courier after a delivery (or a cancelled or failed order), so it can take new offers.
    func release(_ courier: CourierID, from order: OrderID) {
        offers.completeOrder(order)
        if !stacking { _ = offers.releaseCourier(courier) }
        dropFromPlan(order, courier: courier)
    }

    /// Restores an accepted order's courier after a restart, so dispatch offers it nothing else; nobody is told.
    func restoreAssignment(_ order: WaitingOrder, to courier: CourierID, pickedUp: Bool = false) throws(OfferError) {
        defer { _ = offers.drainEvents() }
        _ = try offers.offer(order, to: courier, nowMs: clock.nowMs)
        try offers.accept(order: order.id, courier: courier, nowMs: clock.nowMs)
        // Stops in restore order (oldest order first): the plan's order before the restart is not stored.
        plans[courier, default: CourierPlan()].append(order.id, pickup: order.pickup, details: details(of: order),
                                                      pickedUp: pickedUp)
    }

    /// Accepts or declines a courier's open offer of an order.
    func answerOffer(order: OrderID, courier: CourierID, accept: Bool) throws(APIError) {
        let now = clock.nowMs
        do {
            if accept {
                try offers.accept(order: order, courier: courier, nowMs: now)
            } else {
                try offers.decline(order: order, courier: courier, nowMs: now)
            }
        } catch {
            switch error {
            case .noOpenOffer, .offerExpired: throw APIError(.offerNotFound, "\(error)")
            default: throw APIError(.offerConflict, "\(error)")
            }
        }
        drainOfferEvents()
    }

    // MARK: - rounds

    func tick(nowMs now: Int64) {
        if offers.expire(nowMs: now) > 0 { drainOfferEvents() }
        refreshETAs(nowMs: now)
        guard !roundInFlight, !waiting.waiting.isEmpty,
              now - lastRoundMs >= intervalMs || waiting.waiting.count >= batchSize else { return }
        guard let cluster else { return startRound(nowMs: now) }
        // Cluster: the couriers near the borders and everyone's slots first (off the loop), then the round.
        lastRoundMs = now
        roundInFlight = true
        prepareBorderRound(cluster, nowMs: now) { [unowned self] inputs in
            self.roundInFlight = false
            self.border = inputs
            guard !self.waiting.waiting.isEmpty else { return }
            self.startRound(nowMs: self.clock.nowMs)
        }
    }

    /// Starts a due round of either kind.
    private func startRound(nowMs now: Int64) {
        if stacking {
            stackingTick(nowMs: now)
            return
        }
        let eta: any ETAProvider
        if let roads, !useStraightLine {
            eta = ProfileETAProvider(fallback: RoutingETAProvider(network: roads.network, weights: roads.weights),
                                     byProfile: profileRoads.mapValues { RoutingETAProvider(network: $0.network, weights: $0.weights) })
        } else if useStraightLine {
            eta = StraightLineETAProvider()
        } else {
            return   // no graph and straight-line ETAs not enabled: orders wait
        }
        lastRoundMs = now
        roundInFlight = true
        let round = DispatchRound(orders: waiting.waiting, couriers: courierSnapshot(nowMs: now), eta: eta,
                                  policy: policy, config: config, nowMs: now,
                                  excludedPairs: offers.excludedPairs, busyCouriers: offers.busyCouriers)
        let started = ContinuousClock.now
        do {
            try workers.run(round, { round -> Result<DispatchPlan, DispatchError> in
                do throws(DispatchError) { return .success(try round.run()) } catch { return .failure(error) }
            }) { [unowned self] result in
                self.roundFinished(startedAt: started)
                switch result {
                case .failure(let error):
                    self.roundErrors &+= 1
                    self.logger.warning("dispatch round failed", metadata: ["error": "\(error)"])
                case .success(let plan):
                    self.apply(plan)
                }
            }
        } catch {
            roundInFlight = false
            roundErrors &+= 1
        }
    }

    /// Couriers that can take more work when stacking: free, or with stops planned and room for more.
    static let stackableStatuses = StatusFilter(rawValue: StatusFilter(.available).rawValue | StatusFilter(.toPickup).rawValue
                                                | StatusFilter(.onTrip).rawValue)

    /// How a round looks for an order's couriers: how many nearest, within its waiting-time-widened radius, of which
    /// statuses. The one rule both kinds of round and the cluster's border gathering follow.
    func candidateSearch(for order: WaitingOrder, nowMs: Int64) -> (k: Int, radiusMeters: Double, statuses: StatusFilter) {
        let radius = config.searchRadiusMeters(waitedSeconds: Double(max(0, nowMs - order.createdAtMs)) / 1000)
        return stacking
            ? (config.maxCandidatesPerOrder, radius, Self.stackableStatuses)
            : (config.maxCandidatesPerOrder * 2, radius, StatusFilter(.available))
    }

    /// Couriers near the waiting orders, as a snapshot a worker can read: the union of each order's nearest
    /// available drivers within its (waiting-time-widened) search radius.
    func courierSnapshot(nowMs: Int64) -> CourierSnapshotIndex {
        var seen = Set<DriverID>()
        var couriers: [CourierSnapshot] = []
        var found: [NearbyDriver] = []
        let busy = offers.busyCouriers
        for order in waiting.waiting {
            let search = candidateSearch(for: order, nowMs: nowMs)
            found.removeAll(keepingCapacity: true)
            table.nearest(to: order.pickup, k: search.k, maxRadiusMeters: search.radiusMeters, statuses: search.statuses,
                          nowMs: nowMs, into: &found)
            for d in found where seen.insert(d.state.id).inserted && !busy.contains(d.state.id) && border.heldElsewhere[d.state.id] == nil {
                couriers.append(snapshot(of: d.state))
            }
        }
        // Cluster: other shards' available couriers near the border orders, unless an order elsewhere keeps them busy.
        for s in border.remote.values.sorted(by: { $0.id.rawValue < $1.id.rawValue })
        where s.status == .available && seen.insert(s.id).inserted && !busy.contains(s.id) && border.heldElsewhere[s.id] == nil {
            couriers.append(snapshot(of: s))
        }
        return CourierSnapshotIndex(couriers)
    }

    private func snapshot(of s: DriverState) -> CourierSnapshot {
        CourierSnapshot(id: s.id, position: LatLng(degrees: s.latDegrees, s.lngDegrees), status: .available,
                        vehicle: courierVehicles[s.id] ?? .car, capacityUnits: 1, idleSinceMs: s.timestampMs,
                        rating: courierRating?(s.id))
    }

    /// Turns a plan into offers, skipping what changed while the round ran (order gone, courier busy).
    func apply(_ plan: DispatchPlan) {
        let now = clock.nowMs
        for a in plan.assignments {
            guard let order = waiting.waiting.first(where: { $0.id == a.order }) else { continue }
            guard let state = courierState(a.courier), state.status == .available,
                  !isStaleCourier(state.id, nowMs: now) else { continue }
            do {
                _ = try offers.offer(order, to: a.courier, nowMs: now)
                _ = waiting.remove(a.order)
                offersMade &+= 1
                if table.state(of: a.courier) == nil { cluster?.remoteOffers &+= 1 }
                offerETAs[a.order] = a.pickupETASeconds
            } catch {
                continue
            }
        }
        drainOfferEvents()
    }

    /// Delivers offer-book events: pushes to drivers, requeues, and tells the listeners.
    func drainOfferEvents() {
        for event in offers.drainEvents() {
            switch event {
            case .offered(let offer):
                lastOffered[offer.order.id] = offer.order
                let insertion = pendingInsertions[offer.order.id].map { ($0.pickupAt, $0.dropoffAt) }
                _ = drivers.push(offer.courier, DriverMessages.offer(offer, pickupETASeconds: offerETAs[offer.order.id], insertion: insertion))
            case .returnedToQueue(let order):
                waiting.requeue(order)
            case .withdrawn(let order, let courier, _):
                offerETAs[order] = nil
                pendingInsertions[order] = nil
                lastOffered[order] = nil
                _ = drivers.push(courier, DriverMessages.offerClosed("offer_withdrawn", order: order))
            case .expired(let order, let courier, _):
                offerETAs[order] = nil
                pendingInsertions[order] = nil
                lastOffered[order] = nil
                _ = drivers.push(courier, DriverMessages.offerClosed("offer_expired", order: order))
            case .accepted(let order, let courier, _):
                offerETAs[order] = nil
                addToPlan(order, courier: courier)
            case .declined(let order, _, _):
                offerETAs[order] = nil
                pendingInsertions[order] = nil
                lastOffered[order] = nil
            }
            for listener in offerListeners { listener(event) }
        }
    }

    /// Whole microseconds from `started` to now (the stats' round and border wait times).
    static func microseconds(since started: ContinuousClock.Instant) -> UInt64 {
        let took = ContinuousClock.now - started
        return UInt64(took.components.seconds) * 1_000_000 + UInt64(took.components.attoseconds / 1_000_000_000_000)
    }

    /// A round's answer is back (either kind of round): counts it and keeps its wall time for /v1/dispatch/stats.
    func roundFinished(startedAt started: ContinuousClock.Instant) {
        roundInFlight = false
        rounds &+= 1
        lastRoundMicros = Self.microseconds(since: started)
    }

    // MARK: - driver channel and HTTP

    /// `{"op":"accept"|"decline","order":ID}` on the driver channel; false for other ops.
    /// Records what a courier drives, so its pickup ETAs use that vehicle's road profile.
    func setVehicle(_ vehicle: VehicleType, of courier: CourierID) {
        courierVehicles[courier] = vehicle
    }

    func driverMessage(_ driver: DriverID, _ op: String, _ message: JSONValue) -> Bool {
        if op == "vehicle" {
            let reply: [UInt8]
            if let name = message["vehicle"]?.string, let vehicle = VehicleType(name: name) {
                setVehicle(vehicle, of: driver)
                reply = DriverMessages.vehicleSet(name: name.lowercased())
            } else {
                reply = SocketErrorMessage.bytes(APIError(.invalidParameter, "vehicle must be car, van, bike, bicycle or scooter"))
            }
            _ = drivers.push(driver, reply)
            return true
        }
        guard op == "accept" || op == "decline" else { return false }
        let reply: [UInt8]
        if let order = (message["order"]?.uint64 ?? message["offer"]?.uint64).map({ OrderID($0) }),
           answerAtOrderOwner(order, courier: driver, accept: op == "accept") {
            return true
        } else if let order = (message["order"]?.uint64 ?? message["offer"]?.uint64).map({ OrderID($0) }) {
            do throws(APIError) {
                try answerOffer(order: order, courier: driver, accept: op == "accept")
                afterAnswerWritten(order) { [unowned self] error in
                    _ = self.drivers.push(driver, error.map { SocketErrorMessage.bytes($0) }
                                          ?? DriverMessages.offerAnswered(op == "accept" ? "offer_accepted" : "offer_declined", order: order))
                }
                return true
            } catch {
                reply = SocketErrorMessage.bytes(error)
            }
        } else {
            reply = SocketErrorMessage.bytes(APIError(.invalidParameter, "order is required"))
        }
        _ = drivers.push(driver, reply)
        return true
    }

    /// Cluster mode: answers an offer given on the driver channel where the order is held (the shard that made the
    /// offer, which may not be this one), as the courier's own `POST /v1/orders/{id}/accept|decline` with the token its
    /// channel was opened with; the reply goes back on the channel. False (nothing done) for one engine, or without
    /// that token.
    private func answerAtOrderOwner(_ order: OrderID, courier: DriverID, accept: Bool) -> Bool {
        guard let atOrderOwner, let token = drivers.credential(of: courier) else { return false }
        let verb = accept ? "accept" : "decline"
        let path = "/v1/orders/\(order.rawValue)/\(verb)"
        let request = HTTPRequest(method: .post, methodName: "POST", target: path + "?driver=\(courier.rawValue)", path: path,
                                  query: [("driver", String(courier.rawValue))],
                                  headers: [("authorization", "Bearer " + token), ("content-type", "application/json")],
                                  body: Array("{}".utf8))
        let responder = Responder(sink: { [unowned self] response in
            let reply: [UInt8]
            if response.status == 200 {
                reply = DriverMessages.offerAnswered(accept ? "offer_accepted" : "offer_declined", order: order)
            } else {
                let error = (try? JSONReader.parse(response.body))?["error"]
                reply = SocketErrorMessage.bytes(APIError(APIError.Code(error?["code"]?.string ?? "offer_not_found", response.status),
                                                          error?["message"]?.string ?? "the offer's shard refused the answer"))
            }
            _ = self.drivers.push(courier, reply)
        })
        let local = { [unowned self] in
            try answerOffer(order: order, courier: courier, accept: accept)
            afterAnswerWritten(order) { error in
                if let error { return responder.fail(error) }
                responder.respond(Self.answered(order, accept: accept))
            }
        }
        do { try atOrderOwner(order, request, responder, local) } catch let error as APIError { responder.fail(error) } catch {
            responder.fail(APIError(.internalError, "internal error"))
        }
        return true
    }

    /// The courier an offer answer is for: a driver acts for itself; admin/dispatcher name it with `?driver=`.
    func offerCourier(_ request: HTTPRequest) throws(APIError) -> CourierID {
        let caller = try auth.require(request, [.driver, .dispatcher])
        if caller.role == .driver {
            guard let id = caller.driverID else { throw APIError(.forbidden, "bad driver token") }
            return id
        }
        guard let text = request.query("driver"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "driver=ID is required when acting for a driver")
        }
        return CourierID(id)
    }

    private static func orderID(_ request: HTTPRequest) throws(APIError) -> OrderID {
        guard let text = request.parameter("id"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "order id must be an unsigned 64-bit integer")
        }
        return OrderID(id)
    }

    func postAccept(_ request: HTTPRequest, _ responder: Responder) throws {
        try postAnswer(request, responder, accept: true)
    }

    func postDecline(_ request: HTTPRequest, _ responder: Responder) throws {
        try postAnswer(request, responder, accept: false)
    }

    /// A courier's answer to an offer, checked here and answered by the shard holding the order (its offer lives there).
    private func postAnswer(_ request: HTTPRequest, _ responder: Responder, accept: Bool) throws {
        let order = try Self.orderID(request)
        let courier = try offerCourier(request)
        let answer = { [unowned self] in
            try answerOffer(order: order, courier: courier, accept: accept)
            afterAnswerWritten(order) { error in
                if let error { return responder.fail(error) }
                responder.respond(Self.answered(order, accept: accept))
            }
        }
        if let atOrderOwner { try atOrderOwner(order, request, responder, answer) } else { try answer() }
    }

    /// The 200 to an offer's answer: `{"order":ID,"status":"accepted"|"declined"}`.
    private static func answered(_ order: OrderID, accept: Bool) -> HTTPResponse {
        .json { w in
            w.beginObject(); w.key("order"); w.number(order.rawValue)
            w.key("status"); w.string(accept ? "accepted" : "declined"); w.endObject()
        }
    }

    /// `GET /v1/drivers/{id}/offers`: the poll endpoint for drivers without a WebSocket.
    func getOffers(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try DriverJSON.id(request)
        let caller = try auth.require(request, [.driver, .dispatcher])
        guard caller.role != .driver || caller.driverID == id else { throw APIError(.forbidden, "a driver sees only its own offers") }
        let offer = offers.openOffer(heldBy: id)
        // An offer lives with the shard that made it (the owner of the order's pick-up): ask the others for it.
        if offer == nil, let askOtherShards, askOtherShards(request, { answers in
            let found = answers.first { r in r.status == 200 && ((try? JSONReader.parse(r.body))?["offers"]?.array?.isEmpty == false) }
            responder.respond(found ?? .json { w in w.beginObject(); w.key("offers"); w.beginArray(); w.endArray(); w.endObject() })
        }) { return }
        responder.respond(.json { w in
            w.beginObject(); w.key("offers"); w.beginArray()
            if let offer {
                let insertion = pendingInsertions[offer.order.id].map { ($0.pickupAt, $0.dropoffAt) }
                DriverMessages.writeOffer(&w, offer, pickupETASeconds: offerETAs[offer.order.id], insertion: insertion, typed: false)
            }
            w.endArray(); w.endObject()
        })
    }

    /// `GET /v1/dispatch/stats` (dispatcher): queue length, open offers, rounds, last round time.
    func getDispatchStats(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        responder.respond(.json { w in
            w.beginObject()
            w.key("policy"); w.string(policy.rawValue)
            w.key("waiting"); w.number(waiting.waiting.count)
            w.key("open_offers"); w.number(offers.openOffers.count)
            w.key("assigned"); w.number(offers.assignedOrders.count)
            w.key("rounds"); w.number(rounds)
            w.key("offers_made"); w.number(offersMade)
            w.key("round_errors"); w.number(roundErrors)
            w.key("last_round_us"); w.number(lastRoundMicros)
            w.key("eta"); w.string(useStraightLine ? "straight_line" : (roads == nil ? "none" : "routing"))
            w.key("stacking"); w.bool(stacking)
            w.key("stacked_offers"); w.number(stackedOffers)
            w.key("planned_couriers"); w.number(plans.count)
            w.key("last_round_road_queries"); w.number(lastRoundRoadQueries)
            if let cluster {
                w.key("border"); w.beginObject()
                w.key("orders"); w.number(cluster.borderOrders)
                w.key("queries"); w.number(cluster.borderQueries)
                w.key("remote_candidates"); w.number(cluster.remoteCandidates)
                w.key("remote_offers"); w.number(cluster.remoteOffers)
                w.key("slot_read_failures"); w.number(cluster.slotReadFailures)
                w.key("last_prepare_us"); w.number(cluster.lastPrepareMicros)
                w.endObject()
            }
            w.endObject()
        })
    }
}

import Dispatcher
import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import HexGeo
import JSON
import Logging
import Marketplace
import Storage
import Vocabulary

/// The engine's orders module, loop-owned: the store, pricing, surge, ratings and notifications, the live
/// orders the tracking hooks read, and the HTTP responders waiting for a commit.
///
/// Writes leave the loop for the store's writer thread; their completions come back through `wakeup` (a
/// mailbox of `OrderMail` values keyed by a ticket) and are applied here, on the loop, before the HTTP
/// answer goes out: a 201 is only ever sent after the order's transaction committed.
final class OrdersService: EngineService {
    /// Cluster mode: sends an order creation whose pick-up another shard owns to that shard and answers with its
    /// answer (true), or leaves it here (false); nil for one engine.
    var relayToOwner: ((LatLng, HTTPRequest, Responder) -> Bool)?
    let store: any Store & FenceStore
    let dataDirectory: String
    /// Whether the data directory is a temporary one this engine made (removed at close).
    var removeDataDirectoryOnClose = false
    /// The store's fences as read at start (with the other start-up reads, off the loop), until the fence service
    /// takes them (`takeStartupFences`).
    var startupFences: [StoredFence]?
    let zones: H3ZoneKeyer
    let surge: SurgeMap
    let pricer: Pricer
    let notifier: Notifier
    let webhooks: WebhookSink?
    let book: OrderBook
    let ratings: RatingBook
    let metrics: OrdersMetrics
    let wakeup: AsyncWakeup<OrderMail>
    let mailbox: AsyncSender<OrderMail>
    /// Orders not in a terminal status, by id; change it through `setLive` (which keeps `liveByCustomer`).
    var live: [OrderID: LiveOrder] = [:]
    /// Replies to couriers' answers held until the answer's write is done (`whenAnswerWritten`), by write.
    var answerReplies: [UInt64: [(APIError?) -> Void]] = [:]
    /// The answer write in flight for an order, and how many were asked for (their numbers).
    var latestAnswerWrite: [OrderID: UInt64] = [:]
    var answerWritesAsked: UInt64 = 0
    /// Live orders per customer, and creations sent to the store and not yet answered (by ticket), for the
    /// per-customer limit (docs/limits.md).
    private var liveByCustomer: [CustomerID: Int] = [:]
    private var creating: [UInt64: CustomerID] = [:]
    private var creatingByCustomer: [CustomerID: Int] = [:]
    /// Live orders one customer may have through `POST /v1/orders` (0: no limit); the demo is not limited.
    var maxLiveOrdersPerCustomer = 0
    private var waiting: [UInt64: Responder] = [:]
    private var nextTicket: UInt64 = 1
    /// Orders waiting for room in dispatch's queue, oldest first (`backlogHead` is the first still to hand over).
    /// Dispatch's queue costs O(n) per insert and a round reads every waiting order, so the loop hands it at
    /// most `maxDispatchQueue` orders and keeps the rest here until rounds drain it (an overload, or a restart
    /// with many live orders, never stalls the loop).
    private var backlog: [WaitingOrder] = []
    private var backlogHead = 0
    var maxDispatchQueue = 2_000
    /// Surge is recomputed this often (on a worker), from waiting pick-ups and available couriers.
    var surgeIntervalMs: Int64 = 5_000
    private var lastSurgeMs: Int64 = 0
    private var surgeInFlight = false
    private(set) var isClosed = false
    /// Listeners for JSON events about an order (its watchers: the tracking hub).
    private var watcherListeners: [(OrderID, [UInt8]) -> Void] = []

    let dispatch: DispatchService
    let drivers: DriverChannel
    let auth: Authenticator
    let roads: RoadState?
    let table: DriverTable
    let workers: WorkQueue
    let clock: EngineClock
    let logger: Logger
    /// Whether anonymous viewers may read surge (the demo's live map).
    let publicTracking: Bool
    /// Dispatch-time ETAs against the actual pickup and delivery (`hexfleet_eta_error_seconds`).
    let etaAccuracy: ETAAccuracy

    init(store: any Store & FenceStore, dataDirectory: String, zones: H3ZoneKeyer, surge: SurgeMap, pricer: Pricer,
         notifier: Notifier, webhooks: WebhookSink?, ratings: RatingBook, wakeup: AsyncWakeup<OrderMail>,
         dispatch: DispatchService, drivers: DriverChannel, auth: Authenticator, roads: RoadState?, table: DriverTable,
         workers: WorkQueue, clock: EngineClock, metrics: EngineMetrics, logger: Logger, publicTracking: Bool) {
        self.dispatch = dispatch
        self.drivers = drivers
        self.auth = auth
        self.roads = roads
        self.table = table
        self.workers = workers
        self.clock = clock
        self.logger = logger
        self.publicTracking = publicTracking
        self.store = store
        self.dataDirectory = dataDirectory
        self.zones = zones
        self.surge = surge
        self.pricer = pricer
        self.notifier = notifier
        self.webhooks = webhooks
        self.ratings = ratings
        self.wakeup = wakeup
        mailbox = wakeup.sender
        book = OrderBook(store: store, pricer: pricer, notifier: notifier)
        self.metrics = OrdersMetrics(registry: metrics.registry)
        etaAccuracy = ETAAccuracy(registry: metrics.registry)
    }

    // MARK: - waiting responders

    /// Parks a responder until its commit comes back; the ticket names it in the mail.
    func park(_ responder: Responder) -> UInt64 {
        let t = nextTicket
        nextTicket &+= 1
        waiting[t] = responder
        return t
    }

    private func take(_ ticket: UInt64) -> Responder? {
        ticket == 0 ? nil : waiting.removeValue(forKey: ticket)
    }

    // MARK: - live orders and the per-customer limit

    /// Sets or removes a live order, keeping the per-customer counts.
    func setLive(_ id: OrderID, _ order: LiveOrder?) {
        if let old = live[id] { Self.count(&liveByCustomer, old.customer, -1) }
        live[id] = order
        if let order { Self.count(&liveByCustomer, order.customer, 1) }
    }

    private static func count(_ counts: inout [CustomerID: Int], _ customer: CustomerID, _ delta: Int) {
        let n = counts[customer, default: 0] + delta
        counts[customer] = n > 0 ? n : nil
    }

    /// Throws 429 `too_many_orders` when `customer` already has `maxLiveOrdersPerCustomer` orders live or being
    /// created.
    func checkOrderLimit(_ customer: CustomerID) throws(APIError) {
        guard maxLiveOrdersPerCustomer > 0 else { return }
        let n = liveByCustomer[customer, default: 0] + creatingByCustomer[customer, default: 0]
        guard n < maxLiveOrdersPerCustomer else {
            metrics.pendingLimited += 1
            throw APIError(.tooManyOrders, "customer \(customer.rawValue) already has \(n) live orders (limit \(maxLiveOrdersPerCustomer))")
        }
    }

    /// Parks `responder` for a creation for `customer`, counted against its limit until the store answers.
    func parkCreation(_ responder: Responder, for customer: CustomerID) -> UInt64 {
        let ticket = park(responder)
        creating[ticket] = customer
        Self.count(&creatingByCustomer, customer, 1)
        return ticket
    }

    private func countStoreError(_ error: MarketplaceError) {
        let code = error.code.name
        if OrdersMetrics.storeErrorCodes.contains(code) { metrics.pendingStoreErrors[code, default: 0] += 1 }
    }

    /// A completion that posts a status change back to the loop.
    func changed(_ ticket: UInt64, then: OrderFollowUp = .nothing) -> @Sendable (Result<OrderRecord, MarketplaceError>) -> Void {
        let mailbox = self.mailbox
        return { result in _ = mailbox.send(.changed(ticket: ticket, result, then: then)) }
    }

    // MARK: - mail from the writer and notifier threads

    func receive(_ mail: OrderMail) {
        switch mail {
        case .created(let ticket, let result):
            let responder = take(ticket)
            if let customer = creating.removeValue(forKey: ticket) { Self.count(&creatingByCustomer, customer, -1) }
            switch result {
            case .success(let out):
                if out.replayed {
                    metrics.pendingReplayed += 1
                } else {
                    metrics.pendingCreated += 1
                    committed(out.order, then: .nothing)
                }
                responder?.respond(.json(status: out.replayed ? 200 : 201) { w in OrderJSON.write(&w, out.order) })
            case .failure(let error):
                metrics.pendingFailures += 1
                countStoreError(error)
                responder?.fail(OrderAPIErrors.apiError(error))
            }
        case .changed(let ticket, let result, let then):
            let responder = take(ticket)
            switch result {
            case .success(let order):
                committed(order, then: then)
                responder?.respond(.json { w in OrderJSON.write(&w, order) })
            case .failure(let error):
                countStoreError(error)
                if case .followsDispatch(let id) = then, let o = live[id], o.dispatchWritesInFlight > 0 {
                    live[id]?.dispatchWritesInFlight -= 1
                }
                if case .followsDispatch(let id) = then, error.code.name == StorageError.Code.courierAtCapacity.name {
                    offerRefused(id)
                }
                if let responder {
                    metrics.pendingFailures += 1
                    responder.fail(OrderAPIErrors.apiError(error))
                } else {
                    logger.debug("order transition refused", metadata: ["error": "\(error)"])
                }
            }
        case .rated(let ticket, let result):
            let responder = take(ticket)
            switch result {
            case .success(let rating): responder?.respond(.json(status: 201) { w in OrderJSON.write(&w, rating) })
            case .failure(let error): responder?.fail(OrderAPIErrors.apiError(error))
            }
        case .push(let text, let recipient, let order):
            deliverPush(text, to: recipient, order: order)
        case .answerWritten(let id, let write, let refusal):
            answerWritten(id, write: write, refusal)
        }
    }

    /// Applies a committed order on the loop: live state, watchers, and what the new status implies for dispatch.
    func committed(_ order: OrderRecord, then: OrderFollowUp) {
        let id = order.id
        let before = live[id]
        var inFlight = before?.dispatchWritesInFlight ?? 0
        if case .followsDispatch = then, inFlight > 0 { inFlight -= 1 }
        if order.status.isTerminal {
            setLive(id, nil)
        } else if inFlight > 0 {
            // A later write that follows dispatch is still in flight: the loop's view is the newer one.
            live[id]?.dispatchWritesInFlight = inFlight
        } else {
            setLive(id, LiveOrder(customer: order.customerID, courier: order.courierID, status: order.status,
                                    pickup: order.pickup, dropoff: order.dropoff, createdAtMs: order.createdAtMs, timing: order.timing))
        }
        metrics.pendingTransitions[order.status, default: 0] += 1
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("order")
        w.key("order"); OrderJSON.write(&w, order)
        w.endObject()
        tellWatchers(order.id, w.bytes)
        if let courier = order.courierID ?? before?.courier {
            _ = drivers.push(courier, w.bytes)
        }
        switch order.status {
        case .quoted where before == nil || then == .requeue:
            queueForDispatch(Self.waitingOrder(order))
        case .pickedUp:
            if let courier = order.courierID ?? before?.courier { dispatch.pickedUp(order.id, by: courier) }
            etaAccuracy.pickedUp(order.id, atMs: clock.nowMs)
        case .delivered:
            etaAccuracy.delivered(order.id, atMs: clock.nowMs, tripSeconds: order.durationSeconds)
            if let courier = order.courierID ?? before?.courier {
                dispatch.release(courier, from: order.id)
            }
        case .cancelled, .failed:
            etaAccuracy.forget(order.id)
            dispatch.withdraw(order.id)
            if let courier = order.courierID ?? before?.courier {
                dispatch.release(courier, from: order.id)
            }
        default:
            break
        }
    }

    /// A dispatch the store refused because the courier is full on another shard (cluster mode): the order is still
    /// quoted there, so the loop's view goes back to quoted, the offer is withdrawn (asking for no write) and the
    /// order waits for the next round.
    private func offerRefused(_ id: OrderID) {
        guard let o = live[id], o.status == .dispatched, o.dispatchWritesInFlight == 0 else { return }
        live[id]?.status = .quoted
        live[id]?.courier = nil
        dispatch.withdraw(id)
        queueForDispatch(WaitingOrder(id: id, pickup: o.pickup.latLng, createdAtMs: o.createdAtMs))
    }

    /// Hands an order to dispatch, or keeps it in the backlog while dispatch's queue is full.
    func queueForDispatch(_ order: WaitingOrder) {
        if backlogHead == backlog.count, dispatch.waitingCount < maxDispatchQueue {
            dispatch.enqueue(order)
        } else {
            backlog.append(order)
        }
    }

    /// Moves backlog orders that are still waiting (quoted) into dispatch's queue while it has room.
    private func topUpDispatch() {
        guard backlogHead < backlog.count else { return }
        var room = maxDispatchQueue - dispatch.waitingCount
        while room > 0, backlogHead < backlog.count {
            let o = backlog[backlogHead]
            backlogHead += 1
            guard live[o.id]?.status == .quoted else { continue }
            dispatch.enqueue(o)
            room -= 1
        }
        if backlogHead == backlog.count {
            backlog.removeAll(keepingCapacity: true)
            backlogHead = 0
        } else if backlogHead > 4_096, backlogHead * 2 > backlog.count {
            backlog.removeFirst(backlogHead)
            backlogHead = 0
        }
    }

    static func waitingOrder(_ order: OrderRecord) -> WaitingOrder {
        WaitingOrder(id: OrderID(order.id.rawValue),
                     pickup: order.pickup.latLng,
                     createdAtMs: order.createdAtMs)
    }

    private func deliverPush(_ text: String, to recipient: Recipient, order: OrderID?) {
        let bytes = Array(text.utf8)
        switch recipient {
        case .courier(let c):
            _ = drivers.push(c, bytes)
        case .customer(let c):
            // Customers follow orders: the notification goes to the watchers of the order it names.
            if let order {
                tellWatchers(order, bytes)
            } else {
                for (id, o) in live where o.customer == c { tellWatchers(id, bytes) }
            }
        case .operators:
            break
        }
    }

    // MARK: - what other services ask of orders

    /// Hears every JSON event about an order (state changes, notifications for its customer): its watchers.
    func onWatcherEvent(_ listener: @escaping (OrderID, [UInt8]) -> Void) {
        watcherListeners.append(listener)
    }

    /// Hands a JSON event about an order to its watchers.
    func tellWatchers(_ order: OrderID, _ json: [UInt8]) {
        for listener in watcherListeners { listener(order, json) }
    }

    /// Places an order priced on the road network, as `POST /v1/orders` without a quote does (the demo's
    /// customers); it is dispatched once committed.
    func placeOrder(for customer: CustomerID, from pickup: E7Point, to dropoff: E7Point) {
        let mailbox = self.mailbox
        book.create(TripRequest(customerID: customer, vehicle: "car", pickup: pickup, dropoff: dropoff, notes: nil),
                    idempotencyKey: nil) { result in _ = mailbox.send(.created(ticket: 0, result)) }
    }

    /// A courier reports the pick-up, as `POST /v1/orders/{id}/pickup` with its token does.
    func courierPickedUp(_ order: OrderID, by courier: CourierID) {
        book.pickUp(order, by: ActorRef(.courier, courier.rawValue), completion: changed(0))
    }

    /// A courier reports the delivery, as `POST /v1/orders/{id}/deliver` with its token does.
    func courierDelivered(_ order: OrderID, by courier: CourierID) {
        book.deliver(order, by: ActorRef(.courier, courier.rawValue), completion: changed(0))
    }

    // MARK: - start, tick, stop

    /// Reloads the live orders at start (`Store.liveOrders()`, read off the loop; one engine: a shard loads its
    /// partitions' orders as it gains them).
    func reload(_ orders: [OrderRecord]) {
        adopt(orders, reason: "restart")
    }

    /// Takes live orders over: each is tracked again, and orders waiting for a courier go back to dispatch (a
    /// dispatched order's offer did not survive the restart or the failover: it is treated as expired, returned to
    /// quoted and offered again); an accepted or picked-up order keeps its courier. Orders already live here are
    /// left alone. Answers how many were taken.
    @discardableResult
    func adopt(_ orders: [OrderRecord], reason: String) -> Int {
        var requeued = 0, returned = 0, taken = 0
        for o in orders where live[o.id] == nil {
            taken += 1
            setLive(o.id, LiveOrder(customer: o.customerID, courier: o.courierID, status: o.status, pickup: o.pickup,
                                    dropoff: o.dropoff, createdAtMs: o.createdAtMs, timing: o.timing))
            switch o.status {
            case .quoted:
                queueForDispatch(Self.waitingOrder(o))
                requeued += 1
            case .dispatched:
                book.decline(o.id, by: .system, reason: reason, completion: changed(0, then: .requeue))
                returned += 1
            case .accepted, .pickedUp:
                // The courier is still on this order: dispatch must not offer it another one.
                if let courier = o.courierID {
                    do {
                        try dispatch.restoreAssignment(Self.waitingOrder(o), to: courier, pickedUp: o.status == .pickedUp)
                    } catch {
                        logger.warning("could not restore an assignment", metadata: ["order_id": "\(o.id)", "error": "\(error)"])
                    }
                }
            default:
                break
            }
        }
        logger.info("orders reloaded", metadata: ["live": "\(taken)", "requeued": "\(requeued)",
                                                         "offers_lost": "\(returned)", "why": "\(reason)"])
        return taken
    }

    /// Forgets the live orders whose pick-up `elsewhere` claims (a partition this shard lost): out of the live set
    /// first, so dispatch withdrawing their offers asks for no write, then out of dispatch, couriers released here.
    /// Nothing is written: the new owner reloads them from the store. Answers how many were dropped.
    func drop(where elsewhere: (E7Point) -> Bool) -> Int {
        let leaving = live.filter { elsewhere($0.value.pickup) }
        for (id, order) in leaving {
            setLive(id, nil)
            dispatch.withdraw(id)
            if let courier = order.courier { dispatch.release(courier, from: id) }
            etaAccuracy.forget(id)
        }
        return leaving.count
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.post, "/v1/quotes", postQuote)
        routes.add(.get, "/v1/surge", getSurge)
        routes.add(.post, "/v1/orders", postOrder)
        routes.add(.get, "/v1/orders", listOrders)
        routes.add(.get, "/v1/orders/{id}", getOrder)
        routes.add(.get, "/v1/orders/{id}/events", getOrderEvents)
        routes.add(.post, "/v1/orders/{id}/cancel") { [unowned self] in try self.postTransition($0, $1, .cancel) }
        routes.add(.post, "/v1/orders/{id}/pickup") { [unowned self] in try self.postTransition($0, $1, .pickUp) }
        routes.add(.post, "/v1/orders/{id}/deliver") { [unowned self] in try self.postTransition($0, $1, .deliver) }
        routes.add(.post, "/v1/orders/{id}/fail") { [unowned self] in try self.postTransition($0, $1, .fail) }
        routes.add(.post, "/v1/orders/{id}/rating", postRating)
        routes.add(.get, "/v1/couriers/{id}/rating") { [unowned self] in try self.getRating($0, $1, kind: .courier) }
        routes.add(.get, "/v1/customers/{id}/rating") { [unowned self] in try self.getRating($0, $1, kind: .customer) }
    }

    func tick(nowMs: Int64) {
        metrics.flush(store: store.writeStats, notifier: notifier.counters, webhooks: webhooks?.counters,
                      liveOrderCount: live.count, surgeZoneCount: 0)
        topUpDispatch()
        guard !surgeInFlight, nowMs - lastSurgeMs >= surgeIntervalMs else { return }
        lastSurgeMs = nowMs
        // Demand: every order waiting for a courier, in dispatch's queue or the backlog.
        var pickups = dispatch.waitingPickups
        for o in backlog[backlogHead...] where live[o.id]?.status == .quoted {
            pickups.append(o.pickup)
        }
        // One pass over the table's columns (a state per row plus a hash look-up each held the loop ~0.3 s at 1M).
        // With H3 buckets the couriers travel as their cells, and the worker keys zones by parent cell instead of
        // a latLngToCell per courier (0.7 s of a core every 5 s at 1M drivers).
        let byCell = table.scheme is H3CellScheme
        let cells = byCell ? table.cellKeys(of: .available, nowMs: nowMs) : []
        let couriers = byCell ? [] : table.positions(of: .available, nowMs: nowMs)
        let surge = self.surge
        surgeInFlight = true
        do {
            try workers.run((pickups, couriers, cells), { input in
                if byCell {
                    surge.tick(waitingPickups: input.0, availableCourierCells: input.2)
                } else {
                    surge.tick(waitingPickups: input.0, availableCouriers: input.1)
                }
            }) {
                [weak self] _ in self?.surgeInFlight = false
            }
        } catch {
            surgeInFlight = false
        }
    }

    /// Flushes and closes the store, drains notifications and stops webhooks (engine stop, SIGTERM).
    func stop() {
        guard !isClosed else { return }
        isClosed = true
        store.close()
        notifier.drain()
        webhooks?.stop()
        wakeup.close()
        if removeDataDirectoryOnClose { try? FileManager.default.removeItem(atPath: dataDirectory) }
        for (_, r) in waiting { r.fail(APIError(.storageClosed, "the engine is stopping")) }
        waiting.removeAll()
    }
}

extension OrdersService: OrderDirectory {
    func courier(of order: OrderID) -> CourierID? {
        guard let o = live[order], o.status == .dispatched || o.status == .accepted || o.status == .pickedUp,
              let c = o.courier else { return nil }
        return c
    }

    /// The fences read at start, once (nil afterwards: a later caller reads the store itself).
    func takeStartupFences() -> [StoredFence]? {
        defer { startupFences = nil }
        return startupFences
    }

    func customer(of order: OrderID, _ answer: @escaping (CustomerID?) -> Void) {
        if let o = live[order] { return answer(o.customer) }
        let store = self.store
        do {
            try workers.run({ (try? store.order(order)).flatMap { $0 }.map(\.customerID) }, completion: answer)
        } catch {
            answer(nil)
        }
    }

    /// Where a live order goes (nil once it is terminal).
    func dropoff(of order: OrderID) -> LatLng? { live[order]?.dropoff.latLng }

    /// What dispatch plans a live order with: its drop-off, creation time and timing.
    func dispatchDetails(_ order: OrderID) -> DispatchOrderDetails? {
        guard let o = live[order] else { return nil }
        return DispatchOrderDetails(dropoff: o.dropoff.latLng, createdAtMs: o.createdAtMs, timing: o.timing)
    }
}

import CoreMetrics
import EventLoop
import FleetIndex
import HTTPServer
import HexGeo
import JSON
import Logging
import Marketplace
import Prometheus
import Storage
import Vocabulary

/// Road reach for drive-time fences and arrivals, and road paths for route deviation (the seam routing fills): the
/// H3 cells reachable within `maxSeconds` of driving from a point on the live weights, a version that changes
/// whenever those weights do, and the fastest road path between two points.
protocol DriveTimeReach: AnyObject {
    /// Changes when the weights in force change (drive-time fences are then recomputed).
    var weightsVersion: UInt64 { get }
    /// Cells (any resolution) covering the road nodes reachable within `maxSeconds`; nil when no road is near.
    func reachableCells(from point: LatLng, maxSeconds: Double) -> [H3Cell]?
    /// The cells at `resolution` of the road nodes reachable within `maxSeconds`; nil when no road is near.
    func reachableCells(from point: LatLng, maxSeconds: Double, resolution: Int) -> [H3Cell]?
    /// The cells at `resolution` of the road nodes from which `place` is reached within `maxSeconds` (the reverse
    /// search: the time to get there); nil when no road is near.
    func arrivalCells(to place: LatLng, maxSeconds: Double, resolution: Int) -> [H3Cell]?
    /// The points of the fastest road route on the live weights; nil when there is none.
    func roadPath(from origin: LatLng, to destination: LatLng) -> [LatLng]?
}

extension DriveTimeReach {
    func reachableCells(from point: LatLng, maxSeconds: Double, resolution: Int) -> [H3Cell]? {
        reachableCells(from: point, maxSeconds: maxSeconds)
    }

    func roadPath(from origin: LatLng, to destination: LatLng) -> [LatLng]? { nil }
}

/// How orders' couriers are watched: arrival at the pick-up and drop-off, and straying from the planned route.
struct OrderWatchSettings: Sendable, Equatable {
    /// Arrival within this distance of the place.
    var arrivalRadiusMeters: Double = 60
    /// When > 0, arrival within this drive time from the place instead (resolution-10 cells of the road nodes
    /// reached, and their neighbours); the radius when there is no road graph.
    var arrivalDriveTimeSeconds: Double = 0
    /// Route deviation thresholds; nil: off.
    var deviation: RouteDeviationDetector.Settings? = RouteDeviationDetector.Settings(offRouteMeters: 150, graceMs: 60_000)

    init() {}

    init(_ c: EngineConfiguration) {
        arrivalRadiusMeters = c.arrivalRadiusMeters
        arrivalDriveTimeSeconds = c.arrivalDriveTimeSeconds
        deviation = c.offRouteSeconds > 0
            ? RouteDeviationDetector.Settings(offRouteMeters: c.offRouteMeters, graceMs: Int64(c.offRouteSeconds) * 1_000)
            : nil
    }
}

/// Geofences: `POST/GET/DELETE /v1/fences`, `GET /v1/fences/containing`, `/v1/ws/events`, detection on every
/// accepted ping (`FenceDetector`), roaming fences (per tick), order arrivals, and the events' sinks (WebSocket
/// subscribers, each fence's webhook, the notification pipeline, `hexfleet_fence_events_total`).
///
/// Fences are durable (the store's `fences` table, written on its writer thread; a `POST` is answered after the
/// commit) and reloaded at start; the per-driver state is soft (see `FenceDetector`). Loop-owned.
final class FenceService: EngineService {
    struct Mail: Sendable {
        var ticket: UInt64
        var error: String?
    }

    /// Roaming membership of one near_driver fence.
    struct RoamingState {
        var generation: UInt32
        var initialized = false
        var members: [DriverID: (inside: Bool, pendingSinceMs: Int64?, lastTs: Int64)] = [:]
    }

    let index: FenceIndex
    let detector: FenceDetector
    /// Runs the detector on a thread of its own once started (with `threaded`); inline before start and after stop.
    let worker: FenceWorker
    private let threaded: Bool
    let hub: FenceEventHub
    private let table: DriverTable
    private let auth: Authenticator
    private let clock: EngineClock
    private let store: (any FenceStore)?
    private let webhooks: WebhookSink?
    private let notifier: Notifier?
    private let arrivals: (any ArrivalDirectory)?
    private let driveTime: (any DriveTimeReach)?
    private let logger: Logger
    private let watch: OrderWatchSettings
    private var wakeup: AsyncWakeup<Mail>?
    /// Tells the loop the fence thread has events in its outbox.
    private var eventsWakeup: AsyncWakeup<Bool>?
    /// The fence thread's events being delivered, reused.
    private var delivering: [FenceEvent] = []
    private var isDelivering = false
    /// Roaming fences' events of this tick, delivered at its end.
    private var roamingEvents: [FenceEvent] = []
    private let fenceWorkerWaits: CoreMetrics.Counter
    private var reportedWorkerWaits = 0
    private var waiting: [UInt64: (Responder, [UInt8], UInt16)] = [:]
    private var nextTicket: UInt64 = 1
    private var nextGeneratedID: UInt64 = 1
    private var roaming: [Int32: RoamingState] = [:]
    private var arrivalTargets: [String: ArrivalTarget] = [:]
    private var arrived: Set<ArrivalTarget> = []
    /// The first stop of a courier's planned route (dispatch's plan, issue 18), when it has one: with several
    /// orders on board only the leg to that stop is under way, so only its route is watched for deviation.
    private let nextPlannedStop: ((CourierID) -> (order: OrderID, place: ArrivalPlace)?)?
    /// The route deviation detector of each leg under way (an empty path when no route could be planned).
    private var legs: [ArrivalTarget: RouteDeviationDetector] = [:]
    private var lastSlowTickMs: Int64 = 0
    private var driveTimeVersion: UInt64 = 0
    private var eventCounts = [UInt64](repeating: 0, count: FenceEventKind.allCases.count)
    private let eventMetrics: [CoreMetrics.Counter]
    private let fencesMetric: CoreMetrics.Gauge
    /// Hears every event but order arrivals (handled before it): the event relay, with `--nats`, and tests.
    var onEvent: ((FenceEvent) -> Void)?

    init(table: DriverTable, ingest: IngestService, auth: Authenticator, clock: EngineClock, metrics: EngineMetrics,
         loop: Loop, store: (any FenceStore)?, webhooks: WebhookSink?, notifier: Notifier?, arrivals: (any ArrivalDirectory)?,
         driveTime: (any DriveTimeReach)?, tracking: TrackingConfiguration, watch: OrderWatchSettings,
         logger: Logger, storedFences: [StoredFence]? = nil,
         nextPlannedStop: ((CourierID) -> (order: OrderID, place: ArrivalPlace)?)? = nil, threaded: Bool = true) throws {
        self.nextPlannedStop = nextPlannedStop
        self.table = table
        self.auth = auth
        self.clock = clock
        self.store = store
        self.webhooks = webhooks
        self.notifier = notifier
        self.arrivals = arrivals
        self.driveTime = driveTime
        self.logger = logger
        self.watch = watch
        index = FenceIndex()
        detector = FenceDetector(index: index)
        self.threaded = threaded
        worker = FenceWorker(detector: detector)
        hub = FenceEventHub(configuration: tracking)
        let f = PrometheusMetricsFactory(registry: metrics.registry)
        eventMetrics = FenceEventKind.allCases.map {
            CoreMetrics.Counter(label: "hexfleet_fence_events_total", dimensions: [("event", $0.name)], factory: f)
        }
        fencesMetric = CoreMetrics.Gauge(label: "hexfleet_fences", factory: f)
        fenceWorkerWaits = CoreMetrics.Counter(label: "hexfleet_fence_worker_waits_total", factory: f)
        let w = try AsyncWakeup<Mail>(loop: loop) { [weak self] mail in self?.receive(mail) }
        w.keepsLoopAlive = false
        wakeup = w
        let events = try AsyncWakeup<Bool>(loop: loop) { [weak self] _ in self?.deliverWorkerEvents() }
        events.keepsLoopAlive = false
        eventsWakeup = events
        let eventsSender = events.sender
        worker.eventsReady = { _ = eventsSender.send(true) }
        ingest.onMoved { [unowned self] states, previous, _ in
            if self.worker.isRunning {
                self.worker.submit(states, previous, nowMs: self.clock.nowMs)
                return
            }
            self.detector.process(states, previous: previous, nowMs: self.clock.nowMs)
            if !self.detector.events.isEmpty { self.dispatchEvents() }
        }
        try reload(storedFences)
    }

    // MARK: - life cycle

    /// Indexes the stored fences: `stored` when the engine read them at start (off the loop), else the store's.
    private func reload(_ stored: [StoredFence]?) throws {
        guard let store else { return }
        let now = clock.nowMs
        var loaded = 0
        for stored in try stored ?? store.fences() {
            if let e = stored.expiresAtMs, e <= now {
                store.deleteFence(id: stored.id) { _ in }
                continue
            }
            do {
                let body = try JSONReader.parse(stored.definition)
                let d = try FenceDefinition.parse(body, nowMs: now, checkExpiry: false) { stored.id }
                try addToIndex(d, shape: try resolve(d))
                loaded += 1
            } catch {
                logger.warning("stored fence not loaded", metadata: ["fence": "\(stored.id)", "error": "\(error)"])
            }
        }
        if loaded > 0 { logger.info("fences reloaded", metadata: ["count": "\(loaded)"]) }
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.post, "/v1/fences", create)
        routes.add(.get, "/v1/fences", list)
        routes.add(.get, "/v1/fences/containing", containing)
        routes.add(.get, "/v1/fences/{id}", get)
        routes.add(.delete, "/v1/fences/{id}", delete)
    }

    func registerWebSockets(_ server: HTTPServer) {
        server.addWebSocketRoute("/v1/ws/events", configuration: server.configuration.webSocket,
                                 accept: { [unowned self] request in self.acceptEvents(request) },
                                 onOpen: { [unowned self] connection, _ in self.hub.open(connection) })
    }

    /// Checks an upgrade to `/v1/ws/events`: a dispatcher or admin token.
    private func acceptEvents(_ request: HTTPRequest) -> APIError? {
        do throws(APIError) {
            guard let p = try auth.webSocketPrincipal(request) else {
                return APIError(.unauthorized, "a dispatcher or admin token is required (?token= or Authorization: Bearer)")
            }
            guard p.isAdmin || p.role == .dispatcher else {
                return APIError(.forbidden, "only dispatchers and admins follow fence events")
            }
            return nil
        } catch { return error }
    }

    func start() throws {
        if threaded { worker.start() }
    }

    func tick(nowMs: Int64) {
        deliverWorkerEvents()
        evaluateRoaming(nowMs: nowMs)
        if !roamingEvents.isEmpty {
            let batch = roamingEvents
            roamingEvents.removeAll(keepingCapacity: true)
            for e in batch { deliver(e) }
        }
        if nowMs - lastSlowTickMs >= 1_000 {
            lastSlowTickMs = nowMs
            for id in index.expired(nowMs: nowMs) { removeFence(id) }
            worker.forgetStale(olderThanMs: nowMs - 600_000)
            refreshArrivals(nowMs: nowMs)
            refreshDriveTime(nowMs: nowMs)
        }
        for (i, n) in eventCounts.enumerated() where n > 0 {
            eventMetrics[i].increment(by: n)
            eventCounts[i] = 0
        }
        fencesMetric.record(index.count)
        if worker.fullWaits > reportedWorkerWaits {
            fenceWorkerWaits.increment(by: worker.fullWaits - reportedWorkerWaits)
            reportedWorkerWaits = worker.fullWaits
        }
    }

    func stop() {
        // The pings handed over are decided and their events delivered before the subscribers go.
        worker.stop()
        deliverWorkerEvents()
        eventsWakeup?.close()
        eventsWakeup = nil
        hub.stop()
        wakeup?.close()
        wakeup = nil
        for (_, (responder, _, _)) in waiting { responder.fail(APIError(.unavailable, "shutting down")) }
        waiting.removeAll()
    }

    // MARK: - endpoints

    /// `POST /v1/fences`: registers (or replaces) a fence; answered once it is stored.
    func create(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let now = clock.nowMs
        let d = try FenceDefinition.parse(try request.json(), nowMs: now) { makeID() }
        let shape = try resolve(d)
        let replaced = try addToIndex(d, shape: shape)
        let json = d.json
        persist(StoredFence(id: d.id, definition: json, expiresAtMs: d.expiresAtMs), responder, json, replaced ? 200 : 201)
    }

    /// `GET /v1/fences?limit=&after=`: fences by id.
    func list(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let limit = try Self.limit(request, defaultValue: 1_000, max: 10_000)
        let after = request.query("after")
        var ids = index.byID.keys.filter { !$0.hasPrefix("order:") }
        if let after { ids = ids.filter { $0 > after } }
        ids.sort()
        let now = clock.nowMs
        responder.respond(.json { w in
            w.beginObject()
            w.key("fences"); w.beginArray()
            for id in ids.prefix(limit) {
                guard let slot = index.byID[id], let e = index.entry(slot), !e.definition.isExpired(now) else { continue }
                e.definition.write(&w)
            }
            w.endArray()
            w.endObject()
        })
    }

    /// `GET /v1/fences/{id}`.
    func get(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let e = try entry(request)
        responder.respond(.json(e.definition.json))
    }

    /// `DELETE /v1/fences/{id}`: answered once the deletion is stored.
    func delete(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let e = try entry(request)
        let id = e.definition.id
        removeFence(id, responder: responder)
    }

    /// `GET /v1/fences/containing?lat=&lng=[&limit=]`: fixed fences holding the point, nearest centre first. Any
    /// token may ask (a customer's "who delivers to me").
    func containing(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        guard let lat = try RequestValues.double(request, "lat"), let lng = try RequestValues.double(request, "lng") else {
            throw APIError(.invalidParameter, "lat and lng are required")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "lat/lng out of range") }
        let limit = try Self.limit(request, defaultValue: 100, max: 10_000)
        let found = index.containing(LatLng(degrees: lat, lng), limit: limit + 64, nowMs: clock.nowMs)
        responder.respond(.json { w in
            w.beginObject()
            w.key("fences"); w.beginArray()
            var n = 0
            for (slot, distance) in found where n < limit {
                guard let e = index.entry(slot), !e.definition.id.hasPrefix("order:") else { continue }
                n += 1
                w.beginObject()
                w.key("id"); w.string(e.definition.id)
                w.key("distance_m"); w.number((distance * 10).rounded() / 10)
                if let meta = e.definition.meta { w.key("meta"); w.raw(meta) }
                w.key("fence"); e.definition.write(&w)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        })
    }

    private static func limit(_ request: HTTPRequest, defaultValue: Int, max: Int) throws(APIError) -> Int {
        guard let text = request.query("limit") else { return defaultValue }
        guard let n = Int(text), n >= 1, n <= max else { throw APIError(.invalidParameter, "limit is 1–\(max)") }
        return n
    }

    private func entry(_ request: HTTPRequest) throws(APIError) -> FenceIndex.Entry {
        guard let id = request.parameter("id"), let slot = index.byID[id], let e = index.entry(slot),
              !id.hasPrefix("order:"), !e.definition.isExpired(clock.nowMs) else {
            throw APIError(.fenceNotFound, "no such fence")
        }
        return e
    }

    private func makeID() -> String {
        while true {
            let id = "f\(clock.nowMs)-\(nextGeneratedID)"
            nextGeneratedID += 1
            if index.byID[id] == nil { return id }
        }
    }

    /// The area a fixed or drive-time fence tests; nil for a roaming fence.
    private func resolve(_ d: FenceDefinition) throws(APIError) -> FenceShape? {
        switch d.area {
        case .fixed(let shape): return shape
        case .nearDriver: return nil
        case .driveTime(let center, let maxSeconds):
            guard let driveTime else { throw APIError(.driveTimeUnavailable, "drive-time fences need a road graph") }
            guard let cells = driveTime.reachableCells(from: center, maxSeconds: maxSeconds), !cells.isEmpty else {
                throw APIError(.invalidShape, "no road near shape.center")
            }
            do { return .cells(try FenceCellSet(cells)) } catch { throw APIError(.internalError, "reachable cells invalid") }
        }
    }

    // MARK: - storage

    private func persist(_ fence: StoredFence, _ responder: Responder, _ json: [UInt8], _ status: UInt16) {
        guard let store, let sender = wakeup?.sender else {
            responder.respond(.json(json, status: status))
            return
        }
        let ticket = nextTicket
        nextTicket += 1
        waiting[ticket] = (responder, json, status)
        store.putFence(fence) { result in
            var error: String?
            if case .failure(let e) = result { error = e.message }
            _ = sender.send(Mail(ticket: ticket, error: error))
        }
    }

    private func removeFence(_ id: String, responder: Responder? = nil) {
        removeFromIndex(id)
        var w = JSONWriter(capacity: 64)
        w.beginObject(); w.key("id"); w.string(id); w.key("deleted"); w.bool(true); w.endObject()
        guard let store, !id.hasPrefix("order:") else {
            responder?.respond(.json(w.bytes))
            return
        }
        guard let responder, let sender = wakeup?.sender else {
            store.deleteFence(id: id) { _ in }
            return
        }
        let ticket = nextTicket
        nextTicket += 1
        waiting[ticket] = (responder, w.bytes, 200)
        store.deleteFence(id: id) { result in
            var error: String?
            if case .failure(let e) = result { error = e.message }
            _ = sender.send(Mail(ticket: ticket, error: error))
        }
    }

    private func receive(_ mail: Mail) {
        guard let (responder, json, status) = waiting.removeValue(forKey: mail.ticket) else { return }
        if let error = mail.error {
            logger.error("fence not stored", metadata: ["error": "\(error)"])
            responder.fail(APIError(.internalError, "the fence could not be stored"))
        } else {
            responder.respond(.json(json, status: status))
        }
    }

    // MARK: - events

    // MARK: - index changes

    /// Changes to the index wait until the fence thread has decided the pings handed over before them (so a change
    /// falls between the same two pings as inline), and those pings' events are delivered first (a deleted fence's
    /// last events still reach its webhook).
    private func settleWorker() {
        guard worker.isRunning else { return }
        worker.quiesce()
        deliverWorkerEvents()
    }

    @discardableResult
    private func addToIndex(_ d: FenceDefinition, shape: FenceShape?) throws(APIError) -> Bool {
        settleWorker()
        return try index.add(d, shape: shape)
    }

    private func removeFromIndex(_ id: String) {
        settleWorker()
        index.remove(id)
    }

    /// Delivers the events the fence thread has decided so far, in order. A delivery that changes the index (an
    /// arrival removes its fence) waits for the thread but leaves its newer events for the next round, behind these.
    private func deliverWorkerEvents() {
        guard !isDelivering else { return }
        isDelivering = true
        defer { isDelivering = false }
        worker.takeEvents(into: &delivering)
        for e in delivering { deliver(e) }
        delivering.removeAll(keepingCapacity: true)
    }

    private func dispatchEvents() {
        let events = detector.events
        detector.events.removeAll(keepingCapacity: true)
        for e in events { deliver(e) }
    }

    private func deliver(_ e: FenceEvent) {
        if e.fence.hasPrefix("order:") {
            if e.kind == .enter, let target = arrivalTargets[e.fence], target.courier == e.driver {
                arrive(target, atMs: e.timestampMs, latE7: e.latE7, lngE7: e.lngE7)
            }
            return
        }
        eventCounts[Int(e.kind.rawValue)] &+= 1
        onEvent?(e)
        let hasSubscribers = hub.hasSubscribers(e.fence)
        let webhook = index.byID[e.fence].flatMap { index.entry($0)?.definition.webhook }
        guard hasSubscribers || webhook != nil || notifier != nil else { return }
        let json = e.json
        if hasSubscribers { hub.publish(fence: e.fence, json) }
        if let webhook { webhooks?.post(to: webhook, event: "fence.\(e.kind.name)", body: json) }
        // Transitions are notifications; per-ping inside/outside are state, sent to subscribers and webhooks only.
        if let notifier, e.kind == .enter || e.kind == .exit || e.kind == .cross {
            notifier.publish(.fence(fence: e.fence, driverID: e.driver, kind: e.kind.name, atMs: e.timestampMs,
                                    lat: Double(e.latE7) / 1e7, lng: Double(e.lngE7) / 1e7))
        }
    }

    // MARK: - roaming fences

    /// Each near_driver fence, once per tick: the drivers within its radius of its driver now, against those of the
    /// last tick. The first evaluation sets membership silently. Cost per tick: one radius query per roaming fence,
    /// capped at `maxRoamingMembers` drivers each.
    static let maxRoamingMembers = 1_000

    private func evaluateRoaming(nowMs: Int64) {
        guard !index.roaming.isEmpty || !roaming.isEmpty else { return }
        var live = Set<Int32>()
        for slot in index.roaming {
            guard let e = index.entry(slot), case .nearDriver(let anchor, let radius) = e.definition.area else { continue }
            live.insert(slot)
            let d = e.definition
            if d.isExpired(nowMs) { continue }
            var state = roaming[slot] ?? RoamingState(generation: e.generation)
            if state.generation != e.generation { state = RoamingState(generation: e.generation) }
            guard let a = table.state(of: anchor) else { continue }
            let near = table.within(radiusMeters: radius, of: a.position, nowMs: nowMs, limit: Self.maxRoamingMembers + 1)
            var seen = Set<DriverID>()
            for n in near where n.state.id != anchor && d.watches(n.state.id, n.state.status) {
                seen.insert(n.state.id)
                var m = state.members[n.state.id] ?? (inside: !state.initialized ? true : false, pendingSinceMs: nil, lastTs: 0)
                if !state.initialized { m.inside = true }
                let s = n.state
                if state.initialized && !m.inside {
                    let since = m.pendingSinceMs ?? nowMs
                    if nowMs - since >= d.dwellMs {
                        m.inside = true
                        m.pendingSinceMs = nil
                        if d.detect.contains(.enter) { roamingEvents.append(event(d, s, .enter)) }
                    } else {
                        m.pendingSinceMs = since
                    }
                } else if m.inside {
                    m.pendingSinceMs = nil
                }
                if m.inside && d.detect.contains(.inside) && s.timestampMs != m.lastTs {
                    roamingEvents.append(event(d, s, .inside))
                }
                m.lastTs = s.timestampMs
                state.members[n.state.id] = m
            }
            for (id, var m) in state.members where !seen.contains(id) {
                if !m.inside {
                    state.members.removeValue(forKey: id)
                    continue
                }
                let since = m.pendingSinceMs ?? nowMs
                if nowMs - since >= d.dwellMs {
                    state.members.removeValue(forKey: id)
                    if d.detect.contains(.exit), let s = table.state(of: id) { roamingEvents.append(event(d, s, .exit)) }
                } else {
                    m.pendingSinceMs = since
                    state.members[id] = m
                }
            }
            state.initialized = true
            roaming[slot] = state
        }
        for slot in roaming.keys where !live.contains(slot) { roaming.removeValue(forKey: slot) }
    }

    private func event(_ d: FenceDefinition, _ s: DriverState, _ kind: FenceEventKind) -> FenceEvent {
        FenceEvent(fence: d.id, driver: s.id, kind: kind, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7)
    }

    // MARK: - order arrivals

    /// Keeps one internal fence (`order:<id>:<place>`, watching only the courier) per place an assigned courier is
    /// heading to: a circle of the arrival radius, or the place's drive-time reach. A courier already inside when its
    /// fence appears has arrived too. Also moves each leg's route deviation detector along.
    private func refreshArrivals(nowMs: Int64) {
        guard let arrivals else { return }
        let targets = arrivals.arrivalTargets()
        watchRoutes(targets)
        var wanted: [String: ArrivalTarget] = [:]
        for t in targets where !arrived.contains(t) {
            wanted["order:\(t.order.rawValue):\(t.place.rawValue)"] = t
        }
        for (id, _) in arrivalTargets where wanted[id] == nil {
            removeFromIndex(id)
            arrivalTargets.removeValue(forKey: id)
        }
        for (id, t) in wanted where arrivalTargets[id] == nil { watchArrival(id, t, nowMs: nowMs) }
        // Forget arrivals of orders that moved on, so the set stays as small as the live orders.
        if arrived.count > 4 * max(64, wanted.count + arrivalTargets.count) {
            let current = Set(targets)
            arrived = arrived.filter { current.contains($0) }
        }
    }

    /// Adds (or replaces) the arrival fence of a target, or records the arrival when the courier is already within
    /// the area.
    private func watchArrival(_ id: String, _ t: ArrivalTarget, nowMs: Int64) {
        let center = LatLng(degrees: Double(t.point.latE7) / 1e7, Double(t.point.lngE7) / 1e7)
        let shape = arrivalShape(center)
        if let s = table.state(of: t.courier), shape.contains(s.position) {
            arrive(t, atMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7)
            return
        }
        let d = FenceDefinition(id: id, area: .fixed(shape), detect: [.enter], dwellMs: 0, statuses: nil,
                                drivers: [t.courier], expiresAtMs: nil, meta: nil, webhook: nil, createdAtMs: nowMs,
                                shapeJSON: .null)
        do {
            try addToIndex(d, shape: shape)
            arrivalTargets[id] = t
        } catch {
            logger.warning("arrival fence not added", metadata: ["order_id": "\(t.order)"])
        }
    }

    /// The area whose entry is an arrival at `center`: with a drive time configured and a road near, the places
    /// from which the courier reaches `center` within it on the live weights (a reverse search: the time to get
    /// there, one-way streets taken the way they run), else the radius.
    private func arrivalShape(_ center: LatLng) -> FenceShape {
        if watch.arrivalDriveTimeSeconds > 0, let driveTime,
           let reached = driveTime.arrivalCells(to: center, maxSeconds: watch.arrivalDriveTimeSeconds, resolution: 10) {
            // The neighbours too: a courier between two road nodes (or just off the road) is still there.
            var cells = Set<H3Cell>()
            var ring: [H3Cell] = []
            for c in reached {
                ring.removeAll(keepingCapacity: true)
                if (try? H3.gridDisk(c, k: 1, into: &ring)) != nil { cells.formUnion(ring) } else { cells.insert(c) }
            }
            if let set = try? FenceCellSet(Array(cells)) { return .cells(set) }
        }
        return .circle(center: center, radiusMeters: watch.arrivalRadiusMeters)
    }

    /// Route deviation of every leg under way, once a second on each courier's latest fix: a leg's planned route is
    /// the fastest road path from where the courier was when the leg was first seen to the place it is heading to
    /// (the pick-up, then the drop-off). A courier away from it past the thresholds is an `off_route` order event.
    static let maxRoutesPlannedPerSecond = 64

    private func watchRoutes(_ targets: [ArrivalTarget]) {
        guard let settings = watch.deviation else { return }
        let current = Set(targets)
        for t in legs.keys where !current.contains(t) { legs.removeValue(forKey: t) }
        var planned = 0
        for t in targets {
            guard let s = table.state(of: t.courier) else { continue }
            // A stacked courier heads to one stop at a time: another order's place is not the leg under way.
            if let next = nextPlannedStop?(t.courier), next.order != t.order || next.place != t.place { continue }
            var detector: RouteDeviationDetector
            if let d = legs[t] {
                detector = d
            } else {
                // Routes are searched on the loop: a burst of new legs is spread over the next seconds.
                guard planned < Self.maxRoutesPlannedPerSecond else { continue }
                planned += 1
                let place = LatLng(degrees: Double(t.point.latE7) / 1e7, Double(t.point.lngE7) / 1e7)
                detector = RouteDeviationDetector(path: driveTime?.roadPath(from: s.position, to: place) ?? [], settings: settings)
            }
            if case .offRoute(let atMs, let meters)? = detector.observe(s.position, atMs: s.timestampMs) {
                arrivals?.courierOffRoute(t, atMs: atMs, latE7: s.latE7, lngE7: s.lngE7, distanceMeters: meters)
            }
            legs[t] = detector
        }
    }

    private func arrive(_ t: ArrivalTarget, atMs: Int64, latE7: Int32, lngE7: Int32) {
        guard arrived.insert(t).inserted else { return }
        let id = "order:\(t.order.rawValue):\(t.place.rawValue)"
        if arrivalTargets.removeValue(forKey: id) != nil { removeFromIndex(id) }
        arrivals?.courierArrived(t, atMs: atMs, latE7: latE7, lngE7: lngE7)
    }

    // MARK: - drive-time fences

    /// Recomputes drive-time fences, and drive-time arrival areas, when the weights in force changed. A courier the
    /// new arrival area already holds has arrived.
    private func refreshDriveTime(nowMs: Int64) {
        guard let driveTime, driveTime.weightsVersion != driveTimeVersion else { return }
        driveTimeVersion = driveTime.weightsVersion
        for slot in Array(index.byID.values) {
            guard let e = index.entry(slot), case .driveTime = e.definition.area, let shape = try? resolve(e.definition) else { continue }
            _ = try? addToIndex(e.definition, shape: shape)
        }
        if watch.arrivalDriveTimeSeconds > 0 {
            for (id, t) in arrivalTargets { watchArrival(id, t, nowMs: nowMs) }
        }
    }
}

import CoreMetrics
import EventLoop
import FleetIndex
import HTTPServer
import HexGeo
import JSON
import Prometheus
import Vocabulary

/// The live-tracking hub behind `/v1/ws/track`: subscriptions to a driver, an order's courier, a viewport or H3
/// cells, and a fan-out that runs once per tick.
///
/// ```
/// accepted ping ─▶ batch (latest fix per driver)            tick ─▶ encode each moved driver once (JSON, binary)
///                                                                 ─▶ match: driver index, order→courier,
///                                                                    bbox grid squares + wide list, cell index
///                                                                 ─▶ per subscriber: one message, or skip / evict
/// ```
/// A tick costs O(moved drivers × matching subscribers), independent of idle subscribers. A client whose
/// unsent bytes pass the soft budget skips ticks (its updates wait, latest per driver); past the hard budget, or
/// over the soft budget for `maxStalledMs`, it is closed with 1013 and counted in `hexfleet_ws_evictions_total`. Nothing here waits for a client.
/// Loop-owned.
final class TrackingHub {
    let configuration: TrackingConfiguration
    let table: DriverTable
    let auth: Authenticator
    /// Who holds and who placed an order (the orders service); replaceable so a test can stand in for it.
    var orders: any OrderDirectory
    let metrics: EngineMetrics
    let clock: EngineClock
    let loop: Loop
    let tickMs: UInt64
    /// Whether anonymous viewers may watch the fleet (bbox and cell subscriptions): the demo's live map.
    let publicTracking: Bool
    var subscribers: [ObjectIdentifier: TrackingSubscriber] = [:]
    /// Subscribers by slot (nil: free); see `TrackingIndex`.
    var bySlot: [TrackingSubscriber?] = []
    private var freeSlots: [Int32] = []
    /// Slots of subscribers that closed while a tick was sending: freed when it ends, so a tick's hits can never
    /// reach a newcomer that took the slot meanwhile.
    private var releasedSlots: [Int32] = []
    var index: TrackingIndex
    var binarySubscribers = 0
    /// Fixes accepted since the last tick.
    var batch = PositionBatch()
    /// The batch being sent (its bytes stay valid until every touched subscriber got its message).
    var sending = PositionBatch()
    var isSending = false
    /// A fan-out is owed: on the next loop iteration (its wake-up is sent), or, when one is sending, right after it.
    var fanoutPending = false
    /// When the last fan-out started (`Loop.nanoseconds`); the next starts `trackTickMs` later at the earliest.
    var lastFanoutStartNs: UInt64 = 0
    /// One-shot timer for a fix that arrived less than `trackTickMs` after the last fan-out began.
    var fanoutTimer: EventLoop.Timer?
    var fanoutTimerArmed = false
    var cursor = 0
    var matchCursor = 0
    var tickNowMs: Int64 = 0
    var tickWorkNs: UInt64 = 0
    var sliceWakeup: AsyncWakeup<Void>?
    var backlogged: [ObjectIdentifier: TrackingSubscriber] = [:]
    var markBase = 0
    let frame = WebSocketFrameBuilder(initialCapacity: 16 << 10)
    var extraScratch: [DriverState] = []
    /// The driver ids of one subscriber's hits, while its backlog is merged into a message (reused).
    var hitIDs = DriverIDSet()
    var orderHits: [Int: [UInt64]] = [:]
    var keepalives: KeepaliveRounds

    /// Plain counters, flushed to Prometheus once per tick.
    var stats = TrackingStatistics()
    private var flushed = TrackingStatistics()
    private let messagesMetric: CoreMetrics.Counter
    private let positionsMetric: CoreMetrics.Counter
    private let skippedMetric: CoreMetrics.Counter
    private let subscribersMetric: CoreMetrics.Gauge
    let tickMetric: CoreMetrics.Timer

    init(configuration: TrackingConfiguration, tickMs: UInt64, publicTracking: Bool, table: DriverTable, ingest: IngestService,
         orders: any OrderDirectory, auth: Authenticator, metrics: EngineMetrics, clock: EngineClock, loop: Loop) {
        self.configuration = configuration
        self.tickMs = tickMs
        self.publicTracking = publicTracking
        self.table = table
        self.orders = orders
        self.auth = auth
        self.metrics = metrics
        self.clock = clock
        self.loop = loop
        index = TrackingIndex(gridSideE7: configuration.bboxGridE7, maxGridSquares: configuration.maxBBoxGridSquares)
        keepalives = KeepaliveRounds(keepaliveMs: configuration.keepaliveMs, tickMs: tickMs)
        let f = PrometheusMetricsFactory(registry: metrics.registry)
        messagesMetric = CoreMetrics.Counter(label: "hexfleet_track_messages_total", factory: f)
        positionsMetric = CoreMetrics.Counter(label: "hexfleet_track_positions_total", factory: f)
        skippedMetric = CoreMetrics.Counter(label: "hexfleet_track_skipped_ticks_total", factory: f)
        subscribersMetric = CoreMetrics.Gauge(label: "hexfleet_track_connections", factory: f)
        tickMetric = CoreMetrics.Timer(label: "hexfleet_track_tick_seconds", factory: f)
        ingest.onAccepted { [unowned self] states, _ in for s in states { self.noteAccepted(s) } }
    }

    /// Runs when a connection opens or closes (the install wires it to `hexfleet_ws_connections`).
    var connectionsChanged: () -> Void = {}

    /// Open tracking connections.
    var connectionCount: Int { subscribers.count }

    // MARK: Connections

    /// Checks an upgrade: a valid token (or none when public tracking is on) and a known `format`.
    func accept(_ request: HTTPRequest) -> APIError? {
        do {
            let principal = try auth.webSocketPrincipal(request)
            if principal == nil && !publicTracking {
                return APIError(.unauthorized, "a token is required (?token= or Authorization: Bearer)")
            }
        } catch { return error }
        if let format = request.query("format"), format != "json", format != "binary" {
            return APIError(.invalidParameter, "format must be json or binary")
        }
        return nil
    }

    /// Sets up an accepted connection.
    func open(_ connection: WebSocketConnection, _ request: HTTPRequest) {
        let principal = (try? auth.webSocketPrincipal(request)) ?? nil
        let slot: Int32
        if let free = freeSlots.popLast() { slot = free } else {
            slot = Int32(bySlot.count)
            bySlot.append(nil)
        }
        index.prepare(slot: slot)
        let sub = TrackingSubscriber(connection: connection, principal: principal,
                                     binary: request.query("format") == "binary", slot: slot)
        bySlot[Int(slot)] = sub
        subscribers[ObjectIdentifier(sub)] = sub
        if sub.binary { binarySubscribers += 1 }
        connection.userData = sub
        connection.onText = { [unowned self, unowned sub] text in self.command(text, from: sub) }
        connection.onBinary = { [unowned self, unowned sub] _ in
            self.sendError(sub, APIError(.badRequest, "commands are JSON text messages"))
        }
        connection.onClose = { [unowned self, unowned sub] _, _ in self.remove(sub) }
        connectionsChanged()
    }

    private func remove(_ sub: TrackingSubscriber) {
        guard !sub.closed else { return }
        sub.closed = true
        for d in sub.drivers { index.removeDriver(d, slot: sub.slot) }
        for o in sub.orders { index.removeOrder(o, slot: sub.slot) }
        for b in sub.bboxes { index.removeBBox(b, slot: sub.slot) }
        for c in sub.cells { index.removeCell(c, slot: sub.slot) }
        sub.drivers = []; sub.orders = []; sub.bboxes = []; sub.cells = []; sub.backlog.removeAll()
        if sub.binary { binarySubscribers -= 1 }
        bySlot[Int(sub.slot)] = nil
        if isSending { releasedSlots.append(sub.slot) } else { freeSlots.append(sub.slot) }
        backlogged.removeValue(forKey: ObjectIdentifier(sub))
        subscribers.removeValue(forKey: ObjectIdentifier(sub))
        connectionsChanged()
    }

    /// Closes every connection (engine stop).
    func stop() {
        sliceWakeup?.close()
        sliceWakeup = nil
        fanoutTimer?.close()
        fanoutTimer = nil
        for sub in Array(subscribers.values) { sub.connection.close(code: 1001, reason: "server shutting down") }
    }

    // MARK: Commands

    private func command(_ text: String, from sub: TrackingSubscriber) {
        guard !sub.closed else { return }
        if text.utf8.count > configuration.maxTrackMessageBytes {
            sub.connection.close(code: 1009, reason: "message too big")
            return
        }
        let message: JSONValue
        do { message = try JSONReader.parse(text) } catch {
            sendError(sub, APIError(.invalidJSON, "not JSON: \(error)"))
            return
        }
        do throws(APIError) {
            guard let op = message["op"]?.string else { throw APIError(.unknownOp, "a command has an op") }
            switch op {
            case "subscribe": try subscribe(message, sub)
            case "unsubscribe": try unsubscribe(message, sub)
            default: throw APIError(.unknownOp, "op must be subscribe or unsubscribe")
            }
        } catch {
            sendError(sub, error)
        }
    }

    private func subscribe(_ m: JSONValue, _ sub: TrackingSubscriber) throws(APIError) {
        let p = sub.principal
        if let v = m["driver"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "driver is an unsigned 64-bit id") }
            switch p?.role {
            case .admin?: break
            case .dispatcher?: guard isVisible(id, to: sub) else { throw APIError(.forbidden, "driver \(id) is not in your fleet") }
            case .driver?: guard p?.driverID == DriverID(id) else { throw APIError(.forbidden, "a driver may follow only itself") }
            default: throw APIError(.forbidden, "this token may not follow drivers")
            }
            if !sub.drivers.contains(id) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.drivers.append(id)
                index.addDriver(id, slot: sub.slot)
            }
            if table.lastTimestampMs(of: DriverID(id)) != nil { hold(id, for: sub) }
            ack(sub, "subscribed") { w in w.key("driver"); w.number(id) }
        } else if let v = m["order"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "order is an unsigned 64-bit id") }
            switch p?.role {
            case .admin?, .dispatcher?: break
            case .customer?: guard let me = p?.customerID, orders.customer(of: OrderID(id)) == me else { throw APIError(.forbidden, "not your order") }
            case .driver?: guard let me = p?.driverID, orders.courier(of: OrderID(id)) == me else {
                throw APIError(.forbidden, "not your order")
            }
            case nil: throw APIError(.forbidden, "following an order needs a token")
            }
            if !sub.orders.contains(id) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.orders.append(id)
                index.addOrder(id, slot: sub.slot)
            }
            if let courier = orders.courier(of: OrderID(id)), isVisible(courier.rawValue, to: sub),
               table.lastTimestampMs(of: courier) != nil { hold(courier.rawValue, for: sub) }
            ack(sub, "subscribed") { w in w.key("order"); w.number(id) }
        } else if let v = m["bbox"] {
            try requireAreaPermission(sub)
            let b = try Self.bbox(v)
            if !sub.bboxes.contains(b) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.bboxes.append(b)
                index.addBBox(b, slot: sub.slot)
            }
            snapshot(sub, bbox: b)
            ack(sub, "subscribed") { w in w.key("bbox"); Self.writeBBox(&w, v) }
        } else if let v = m["cells"] {
            try requireAreaPermission(sub)
            let cells = try Self.cells(v, max: configuration.maxCellsPerSubscription)
            let fresh = cells.filter { !sub.cells.contains($0) }
            guard sub.cells.count + Set(fresh).count <= configuration.maxCellsPerConnection else { throw tooMany() }
            for c in fresh where sub.cells.insert(c).inserted { index.addCell(c, slot: sub.slot) }
            let states = (try? table.drivers(inCells: cells, nowMs: clock.nowMs)) ?? []
            for s in states.prefix(configuration.maxSnapshotDrivers) where isVisible(s.id.rawValue, to: sub) { hold(s.id.rawValue, for: sub) }
            ack(sub, "subscribed") { w in w.key("cells"); w.number(cells.count) }
        } else {
            throw APIError(.invalidParameter, "subscribe to a driver, order, bbox or cells")
        }
    }

    private func unsubscribe(_ m: JSONValue, _ sub: TrackingSubscriber) throws(APIError) {
        if let v = m["driver"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "driver is an unsigned 64-bit id") }
            if let i = sub.drivers.firstIndex(of: id) {
                sub.drivers.remove(at: i)
                index.removeDriver(id, slot: sub.slot)
            }
            ack(sub, "unsubscribed") { w in w.key("driver"); w.number(id) }
        } else if let v = m["order"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "order is an unsigned 64-bit id") }
            if let i = sub.orders.firstIndex(of: id) {
                sub.orders.remove(at: i)
                index.removeOrder(id, slot: sub.slot)
            }
            ack(sub, "unsubscribed") { w in w.key("order"); w.number(id) }
        } else if let v = m["bbox"] {
            let b = try Self.bbox(v)
            if let i = sub.bboxes.firstIndex(of: b) {
                sub.bboxes.remove(at: i)
                index.removeBBox(b, slot: sub.slot)
            }
            ack(sub, "unsubscribed") { w in w.key("bbox"); Self.writeBBox(&w, v) }
        } else if let v = m["cells"] {
            let cells = try Self.cells(v, max: configuration.maxCellsPerConnection)
            for c in cells where sub.cells.remove(c) != nil { index.removeCell(c, slot: sub.slot) }
            ack(sub, "unsubscribed") { w in w.key("cells"); w.number(cells.count) }
        } else {
            throw APIError(.invalidParameter, "unsubscribe from a driver, order, bbox or cells")
        }
    }

    private func requireAreaPermission(_ sub: TrackingSubscriber) throws(APIError) {
        if publicTracking { return }
        switch sub.principal?.role {
        case .admin?, .dispatcher?: return
        default: throw APIError(.forbidden, "only admins and dispatchers may watch an area")
        }
    }

    private func tooMany() -> APIError {
        APIError(.tooManySubscriptions, "at most \(configuration.maxSubscriptions) subscriptions and "
                 + "\(configuration.maxCellsPerConnection) cells per connection, \(configuration.maxCellsPerSubscription) cells per message")
    }

    static func bbox(_ v: JSONValue) throws(APIError) -> TrackBBox {
        guard let a = v.array, a.count == 4, let minLat = a[0].double, let minLng = a[1].double,
              let maxLat = a[2].double, let maxLng = a[3].double,
              let b = TrackBBox(minLat: minLat, minLng: minLng, maxLat: maxLat, maxLng: maxLng) else {
            throw APIError(.invalidBBox, "bbox is [minLat, minLng, maxLat, maxLng] in degrees, min ≤ max")
        }
        return b
    }

    private static func writeBBox(_ w: inout JSONWriter, _ v: JSONValue) {
        w.beginArray()
        for x in v.array ?? [] { w.number(x.double ?? 0) }
        w.endArray()
    }

    static func cells(_ v: JSONValue, max: Int) throws(APIError) -> [H3Cell] {
        guard let a = v.array, !a.isEmpty else { throw APIError(.invalidCell, "cells is a non-empty array of H3 cells") }
        guard a.count <= max else { throw APIError(.tooManySubscriptions, "at most \(max) cells per message") }
        var out: [H3Cell] = []
        out.reserveCapacity(a.count)
        for x in a {
            guard let t = x.string, let c = H3Cell(string: t), H3.isValidCell(c) else {
                throw APIError(.invalidCell, "not a valid H3 cell: \((x.string ?? "?").prefix(20))")
            }
            out.append(c)
        }
        return out
    }

    // MARK: Visibility and snapshots

    func isVisible(_ driver: UInt64, to sub: TrackingSubscriber) -> Bool {
        guard let fleet = sub.fleet else { return true }
        // Drivers carry no fleet yet: a dispatcher's fleet sees every driver until fleets are configured.
        _ = fleet
        return true
    }

    /// Queues a known driver's latest state for the subscriber's next message (subscription snapshots); the state
    /// is read from the table when that message is built.
    func hold(_ driver: UInt64, for sub: TrackingSubscriber) {
        sub.backlog.insert(driver)
        backlogged[ObjectIdentifier(sub)] = sub
    }

    /// Queues the live drivers a new bbox subscription already covers (at most `maxSnapshotDrivers`). A table of
    /// up to `maxSnapshotScanRows` is scanned; a larger one is asked for the bbox's polygon when the bbox is small,
    /// and a wide bbox over a huge table gets no snapshot (its drivers arrive as they move, within seconds).
    private func snapshot(_ sub: TrackingSubscriber, bbox b: TrackBBox) {
        let now = clock.nowMs
        let freshAfter = now - table.staleAfterMs
        var candidates: [DriverState]
        if table.count <= configuration.maxSnapshotScanRows {
            candidates = table.allStates()
        } else if let keys = b.gridKeys(sideE7: configuration.bboxGridE7, limit: 64), !keys.isEmpty {
            let lo = LatLng(degrees: Double(b.minLatE7) * 1e-7, Double(b.minLngE7) * 1e-7)
            let hi = LatLng(degrees: Double(b.maxLatE7) * 1e-7, Double(b.maxLngE7) * 1e-7)
            let ring = [lo, LatLng(lat: lo.lat, lng: hi.lng), hi, LatLng(lat: hi.lat, lng: lo.lng)]
            candidates = table.drivers(in: GeoPolygon(outer: ring), nowMs: now)
        } else {
            candidates = []
        }
        var n = 0
        for s in candidates where s.timestampMs >= freshAfter && b.contains(latE7: s.latE7, lngE7: s.lngE7)
            && isVisible(s.id.rawValue, to: sub) {
            hold(s.id.rawValue, for: sub)
            n += 1
            if n >= configuration.maxSnapshotDrivers { break }
        }
    }

    /// Frees the slots of subscribers that closed during the tick that just ended.
    func releaseSlots() {
        freeSlots.append(contentsOf: releasedSlots)
        releasedSlots.removeAll(keepingCapacity: true)
    }

    func flushMetrics() {
        if stats.messages != flushed.messages { messagesMetric.increment(by: Int64(stats.messages &- flushed.messages)) }
        if stats.positions != flushed.positions { positionsMetric.increment(by: Int64(stats.positions &- flushed.positions)) }
        if stats.skippedTicks != flushed.skippedTicks {
            skippedMetric.increment(by: Int64(stats.skippedTicks &- flushed.skippedTicks))
        }
        subscribersMetric.record(subscribers.count)
        flushed = stats
    }

    // MARK: Errors and acks

    func sendError(_ sub: TrackingSubscriber, _ error: APIError) {
        sub.connection.send(textBytes: Self.errorMessage(error))
    }

    static func errorMessage(_ error: APIError) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.key("type"); w.string("error")
        w.key("code"); w.string(error.code.name)
        w.key("message"); w.string(error.message)
        w.endObject()
        return w.bytes
    }

    private func ack(_ sub: TrackingSubscriber, _ type: String, _ body: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.key("type"); w.string(type)
        body(&w)
        w.endObject()
        sub.connection.send(textBytes: w.bytes)
    }
}

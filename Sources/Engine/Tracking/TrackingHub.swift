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
///
/// Its parts own their state: `SubscriberSlots` the slot numbers and their reuse, `TrackingIndex` the
/// subscriptions and a fan-out's hits, `PositionBatch` the moved drivers and their encodings, `FanoutSchedule`
/// when fan-outs run. Every stored property but the `connectionsChanged` hook, the configuration and the order
/// directory (which the composition root sets, and a test may replace) is private, which is
/// why the fan-out, reading and writing most of them, lives in this file (Swift's `private` ends at the file).
/// Loop-owned.
final class TrackingHub {
    let configuration: TrackingConfiguration
    private let table: DriverTable
    private let auth: Authenticator
    /// Who holds and who placed an order (the orders service); replaceable so a test can stand in for it.
    var orders: any OrderDirectory
    private let metrics: EngineMetrics
    private let clock: EngineClock
    private let loop: Loop
    /// Whether anonymous viewers may watch the fleet (bbox and cell subscriptions): the demo's live map.
    private let publicTracking: Bool

    // Subscriptions: written by connections and their commands, read by the fan-out.
    /// Open subscribers, by object: their count, and the list to close at stop.
    private var subscribers: [ObjectIdentifier: TrackingSubscriber] = [:]
    private var slots = SubscriberSlots()
    private var index: TrackingIndex
    /// Open subscribers that take binary messages: while there are none, a fan-out encodes JSON only.
    private var binarySubscribers = 0
    /// Subscribers whose backlog waits for their next message (held back over the soft budget, or snapshots).
    private var backlogged: [ObjectIdentifier: TrackingSubscriber] = [:]

    // Fan-out.
    private var schedule: FanoutSchedule
    /// Fixes accepted since the last fan-out began.
    private var batch = PositionBatch()
    /// The batch being sent (its bytes stay valid until every touched subscriber got its message).
    private var sending = PositionBatch()
    private var pass = FanoutPass()
    /// Added to a batch index to make the index's once-per-slot mark unique across fan-outs.
    private var markBase = 0
    /// One-shot timer for a fix that arrived less than the fan-out interval after the last fan-out began.
    private var fanoutTimer: EventLoop.Timer?
    /// Wakes the loop for the next slice of a fan-out, or for the fan-out owed after one.
    private var sliceWakeup: AsyncWakeup<Void>?
    /// The message being built for one subscriber, sent as one frame.
    private let frame = WebSocketFrameBuilder(initialCapacity: 16 << 10)
    /// The table's states of the drivers a subscriber's backlog holds, while its message is built (reused).
    private var extraScratch: [DriverState] = []
    /// The driver ids of one subscriber's hits, while its backlog is merged into a message (reused).
    private var hitIDs = DriverIDSet()
    /// Followed orders whose courier moved, by the courier's batch index, for the fan-out sending (reused).
    private var orderHits: [Int: [UInt64]] = [:]
    private var keepalives: KeepaliveRounds
    /// Drivers other shards hold, newest fix each (cluster mode; empty on one engine).
    private var remote = RemoteDriverStates()
    private var lastRemoteSweepMs: Int64 = 0

    /// Plain counters, flushed to Prometheus once per tick.
    private var stats = TrackingStatistics()
    private var flushed = TrackingStatistics()
    private let messagesMetric: CoreMetrics.Counter
    private let positionsMetric: CoreMetrics.Counter
    private let skippedMetric: CoreMetrics.Counter
    private let subscribersMetric: CoreMetrics.Gauge
    private let tickMetric: CoreMetrics.Timer

    init(configuration: TrackingConfiguration, tickMs: UInt64, publicTracking: Bool, table: DriverTable, ingest: IngestService,
         orders: any OrderDirectory, auth: Authenticator, metrics: EngineMetrics, clock: EngineClock, loop: Loop) {
        self.configuration = configuration
        self.publicTracking = publicTracking
        self.table = table
        self.orders = orders
        self.auth = auth
        self.metrics = metrics
        self.clock = clock
        self.loop = loop
        index = TrackingIndex(gridSideE7: configuration.bboxGridE7, maxGridSquares: configuration.maxBBoxGridSquares)
        schedule = FanoutSchedule(
            intervalNs: (configuration.fanoutIntervalMs ?? tickMs) &* 1_000_000)
        keepalives = KeepaliveRounds(keepaliveMs: configuration.keepaliveMs, tickMs: tickMs)
        let f = PrometheusMetricsFactory(registry: metrics.registry)
        messagesMetric = CoreMetrics.Counter(label: "hexfleet_track_messages_total", factory: f)
        positionsMetric = CoreMetrics.Counter(label: "hexfleet_track_positions_total", factory: f)
        skippedMetric = CoreMetrics.Counter(label: "hexfleet_track_skipped_ticks_total", factory: f)
        subscribersMetric = CoreMetrics.Gauge(label: "hexfleet_track_connections", factory: f)
        tickMetric = CoreMetrics.Timer(label: "hexfleet_track_tick_seconds", factory: f)
        ingest.onAccepted { [unowned self] states, _ in for s in states { self.noteAccepted(s) } }
    }

    /// Runs when a connection opens or closes (the composition root wires it to `hexfleet_ws_connections`).
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
        let slot = slots.take()
        index.prepare(slot: slot)
        let sub = TrackingSubscriber(connection: connection, principal: principal,
                                     binary: request.query("format") == "binary", slot: slot)
        slots.occupy(slot, with: sub)
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
        slots.release(sub.slot, deferred: schedule.isSending)
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
            if latestState(of: id) != nil { hold(id, for: sub) }
            ack(sub, "subscribed") { w in w.key("driver"); w.number(id) }
        } else if let v = m["order"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "order is an unsigned 64-bit id") }
            switch p?.role {
            case .admin?, .dispatcher?: break
            case .customer?:
                guard let me = p?.customerID else { throw APIError(.forbidden, "not your order") }
                // An order no longer live is looked up in the store, off the loop; the answer may come later.
                orders.customer(of: OrderID(id)) { [weak self, weak sub] owner in
                    guard let self, let sub, !sub.closed else { return }
                    guard owner == me else { return self.sendError(sub, APIError(.forbidden, "not your order")) }
                    do throws(APIError) { try self.follow(order: id, sub) } catch { self.sendError(sub, error) }
                }
                return
            case .driver?: guard let me = p?.driverID, orders.courier(of: OrderID(id)) == me else {
                throw APIError(.forbidden, "not your order")
            }
            case nil: throw APIError(.forbidden, "following an order needs a token")
            }
            try follow(order: id, sub)
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
            let states = ((try? table.drivers(inCells: cells, nowMs: clock.nowMs)) ?? []) + remoteStates(inCells: cells)
            for s in states.prefix(configuration.maxSnapshotDrivers) where isVisible(s.id.rawValue, to: sub) { hold(s.id.rawValue, for: sub) }
            ack(sub, "subscribed") { w in w.key("cells"); w.number(cells.count) }
        } else {
            throw APIError(.invalidParameter, "subscribe to a driver, order, bbox or cells")
        }
    }

    /// Adds an order the caller may follow, holds its courier's position for the next send, and acknowledges.
    private func follow(order id: UInt64, _ sub: TrackingSubscriber) throws(APIError) {
        if !sub.orders.contains(id) {
            guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
            sub.orders.append(id)
            index.addOrder(id, slot: sub.slot)
        }
        if let courier = orders.courier(of: OrderID(id)), isVisible(courier.rawValue, to: sub),
           latestState(of: courier.rawValue) != nil { hold(courier.rawValue, for: sub) }
        ack(sub, "subscribed") { w in w.key("order"); w.number(id) }
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

    // MARK: Visibility and snapshots

    private func isVisible(_ driver: UInt64, to sub: TrackingSubscriber) -> Bool {
        guard let fleet = sub.fleet else { return true }
        // Drivers carry no fleet yet: a dispatcher's fleet sees every driver until fleets are configured.
        _ = fleet
        return true
    }

    /// Queues a known driver's latest state for the subscriber's next message (subscription snapshots); the state
    /// is read from the table when that message is built.
    private func hold(_ driver: UInt64, for sub: TrackingSubscriber) {
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
        if !remote.isEmpty { candidates += remote.all }
        var n = 0
        for s in candidates where s.timestampMs >= freshAfter && b.contains(latE7: s.latE7, lngE7: s.lngE7)
            && isVisible(s.id.rawValue, to: sub) {
            hold(s.id.rawValue, for: sub)
            n += 1
            if n >= configuration.maxSnapshotDrivers { break }
        }
    }

    /// A driver's newest fix: the local table's, or another shard's when that is newer or the table has none.
    private func latestState(of id: UInt64) -> DriverState? {
        let local = table.state(of: DriverID(id))
        guard !remote.isEmpty, let other = remote.state(of: id) else { return local }
        guard let local else { return other }
        return other.timestampMs > local.timestampMs ? other : local
    }

    /// Other shards' fresh drivers inside any of `cells` (the snapshot of a cells subscription).
    private func remoteStates(inCells cells: [H3Cell]) -> [DriverState] {
        guard !remote.isEmpty else { return [] }
        let wanted = Set(cells)
        let resolutions = Set(cells.map { H3.getResolution($0) })
        let freshAfter = clock.nowMs - table.staleAfterMs
        var out: [DriverState] = []
        for s in remote.all where s.timestampMs >= freshAfter {
            for r in resolutions {
                if let c = try? H3.latLngToCell(s.position, resolution: r), wanted.contains(c) { out.append(s); break }
            }
            if out.count >= configuration.maxSnapshotDrivers { break }
        }
        return out
    }

    // MARK: Other shards' drivers

    /// Takes the drivers that moved in another shard's table (cluster mode): each newer than what this engine
    /// knows of it is kept and goes out in the next fan-out, like a local fix.
    func noteRemote(_ states: [DriverState]) {
        var added = false
        for s in states {
            if let local = table.lastTimestampMs(of: s.id), local >= s.timestampMs { continue }
            guard remote.offer(s) else { continue }
            if !subscribers.isEmpty { batch.add(s); added = true }
        }
        if added { requestFanout() }
    }

    /// Drivers of other shards this hub knows (for status and tests).
    var remoteDriverCount: Int { remote.count }

    private func sweepRemote(nowMs: Int64) {
        guard nowMs - lastRemoteSweepMs >= 1_000 else { return }
        lastRemoteSweepMs = nowMs
        remote.removeStale(freshAfterMs: nowMs - table.staleAfterMs)
    }

    private func flushMetrics() {
        if stats.messages != flushed.messages { messagesMetric.increment(by: Int64(stats.messages &- flushed.messages)) }
        if stats.positions != flushed.positions { positionsMetric.increment(by: Int64(stats.positions &- flushed.positions)) }
        if stats.skippedTicks != flushed.skippedTicks {
            skippedMetric.increment(by: Int64(stats.skippedTicks &- flushed.skippedTicks))
        }
        subscribersMetric.record(subscribers.count)
        flushed = stats
    }
}

/// How far the fan-out that is sending got, and what it cost so far.
private struct FanoutPass {
    /// Batch drivers matched so far.
    var matched = 0
    /// Touched slots sent their message so far (`TrackingIndex.touched`).
    var sent = 0
    /// The engine's clock when it started: a subscriber's time over the soft budget is measured against it.
    var nowMs: Int64 = 0
    /// Loop time spent on it over all its slices (`hexfleet_track_tick_seconds`).
    var workNs: UInt64 = 0
}

// MARK: Fan-out

/// The tick: match every driver that moved against the subscriptions, then send each touched subscriber one
/// message built in place (`WebSocketFrameBuilder`), or hold it back (soft budget), or evict it (hard budget).
/// When it runs is `FanoutSchedule`'s call; this extension does the timer and wake-ups it asks for.
extension TrackingHub {
    private static let jsonPrefix = Array(#"{"type":"positions","drivers":["#.utf8)
    private static let jsonSuffix = Array("]}".utf8)

    /// Notes an accepted fix (every transport) and asks for a fan-out: on the next loop iteration when the last one
    /// began at least the fan-out interval ago (the leading edge: a quiet hub sends at once), else when that time is
    /// up, or right after the fan-out in progress ends. Fixes arriving meanwhile coalesce (latest per driver), so a
    /// busy hub sends fewer, fuller messages and a quiet one sends each fix within a loop iteration.
    func noteAccepted(_ s: DriverState) {
        // Another shard's newer fix of this driver stays what subscribers see until the claims settle.
        if !remote.isEmpty && remote.tookLocally(s) { return }
        // Nobody watching: nothing to match or encode (a new subscriber gets a snapshot anyway).
        guard !subscribers.isEmpty else { return }
        batch.add(s)
        requestFanout()
    }

    private func requestFanout() {
        guard schedule.request() else { return }
        switch schedule.place(nowNs: Loop.nanoseconds) {
        case .nextIteration:
            scheduleSlice()
        case .afterMs(let waitMs):
            if fanoutTimer == nil {
                fanoutTimer = try? EventLoop.Timer(loop: loop)
                fanoutTimer?.keepsLoopAlive = false
            }
            do {
                try fanoutTimer?.start(afterMs: waitMs) { [unowned self] in
                    self.schedule.timerFired()
                    self.requestFanout()
                }
                if fanoutTimer != nil { schedule.timerArmed() }
            } catch {
                // No timer: the engine tick sends it.
            }
        }
    }

    /// One tick: keepalive pings for this tick's share of the connections, then a fan-out of anything still waiting
    /// (a backlog that drained; fixes are normally sent by `requestFanout` already). A tick that finds a fan-out
    /// still sending is noted, and the next one starts on the loop iteration after it ends.
    func tick(nowMs: Int64) {
        defer { flushMetrics() }
        sweepRemote(nowMs: nowMs)
        // A subscriber's slot decides its keepalive round: this walks only the round's share of the slots.
        let round = keepalives.next()
        for i in stride(from: round, to: slots.count, by: keepalives.slots) {
            if let sub = slots[i], !sub.closed { sub.connection.ping() }
        }
        guard schedule.request() else { return }
        startFanout(nowMs: nowMs)
    }

    private func startFanout(nowMs: Int64) {
        guard !batch.isEmpty || !backlogged.isEmpty else { return }
        let startNs = Loop.nanoseconds
        swap(&batch, &sending)
        batch.removeAll()
        pass.nowMs = nowMs
        pass.workNs = 0
        let started = Loop.nanoseconds
        prepareMatch()
        pass.workNs &+= Loop.nanoseconds &- started
        schedule.started(atNs: startNs)
        flushSlice()
    }

    /// One slice of a fan-out: matching, then sending; yields to the loop once `sliceBudgetNs` (1 ms) is spent.
    /// The rest continues on the next loop iteration, so sockets, UDP ingest and HTTP are served in between and
    /// loop lag stays bounded however many subscribers there are. Fixes arriving meanwhile collect in the next batch.
    private func flushSlice() {
        let started = Loop.nanoseconds
        let deadline = started &+ configuration.sliceBudgetNs
        if !matchSome(deadline: deadline) {
            pass.workNs &+= Loop.nanoseconds &- started
            scheduleSlice()
            return
        }
        let touched = index.touched
        if pass.sent < touched.count {
            let finished = sendSome(touched, deadline: deadline)
            if !finished {
                pass.workNs &+= Loop.nanoseconds &- started
                scheduleSlice()
                return
            }
        }
        pass.sent = 0
        // Held-back subscribers that matched nothing this tick get their backlog once they drained.
        if !backlogged.isEmpty {
            let heads = index.head
            for sub in Array(backlogged.values) where !sub.closed && !sub.backlog.isEmpty && heads[Int(sub.slot)] < 0 {
                flush(sub, hits: -1, json: UnsafeRawBufferPointer(start: nil, count: 0),
                      records: UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
        index.clearHits()
        markBase &+= sending.count
        sending.removeAll()
        let another = schedule.finished()
        slots.releaseDeferred()
        pass.workNs &+= Loop.nanoseconds &- started
        tickMetric.recordNanoseconds(Int64(clamping: pass.workNs))
        if another { scheduleSlice() }
    }

    /// Sends touched subscribers their messages from `pass.sent` on; false when the deadline stopped it first.
    private func sendSome(_ touched: [Int32], deadline: UInt64) -> Bool {
        let heads = index.head
        sending.json.withUnsafeBytes { json in
            sending.binary.withUnsafeBytes { records in
                while pass.sent < touched.count {
                    let slot = Int(touched[pass.sent])
                    pass.sent += 1
                    if let sub = slots[slot], !sub.closed {
                        flush(sub, hits: heads[slot], json: json, records: records)
                    }
                    // A clock read is ~20 ns; one big message can take a millisecond, so check after each one.
                    if pass.sent < touched.count && Loop.nanoseconds > deadline { return }
                }
            }
        }
        return pass.sent >= touched.count
    }

    /// Continues on the next loop iteration: the rest of a fan-out, or the fan-out of a tick that came while the
    /// last one was sending. An async wake-up, not a 0 ms timer: libuv 1.44 runs a timer re-armed with 0 ms again
    /// in the same timer pass, before any I/O, which would defeat the slicing.
    private func scheduleSlice() {
        if sliceWakeup == nil {
            sliceWakeup = try? AsyncWakeup<Void>(loop: loop) { [unowned self] _ in self.continueFanout() }
            sliceWakeup?.keepsLoopAlive = false
        }
        guard let wakeup = sliceWakeup, wakeup.send(()) else {
            continueFanout()   // no wake-up handle: go on now rather than never
            return
        }
    }

    private func continueFanout() {
        switch schedule.wakeupArrived() {
        case .nextSlice:
            flushSlice()
        case .newFanout:
            startFanout(nowMs: clock.nowMs)
            flushMetrics()
        case .nothing:
            break
        }
    }

    /// Starts encoding the batch (each driver once, as it is matched) and resolves which followed orders' couriers
    /// moved.
    private func prepareMatch() {
        pass.matched = 0
        sending.beginEncoding(binary: binarySubscribers > 0)
        orderHits.removeAll(keepingCapacity: true)
        if !index.orderSlots.isEmpty {
            for order in index.orderSlots.keys {
                if let c = orders.courier(of: OrderID(order)), let i = sending.index(of: c.rawValue) {
                    orderHits[i, default: []].append(order)
                }
            }
        }
    }

    /// Matches moved drivers to subscribers from `pass.matched` on, until done (true) or past `deadline` (false).
    private func matchSome(deadline: UInt64) -> Bool {
        let hasOrders = !orderHits.isEmpty
        while pass.matched < sending.count {
            let i = pass.matched
            if i & 15 == 15 && Loop.nanoseconds > deadline { return false }
            pass.matched += 1
            sending.encodeNext()   // encoding rides the match's time slices: a batch of thousands never blocks
            index.match(sending.states[i], index: Int32(truncatingIfNeeded: i), mark: markBase &+ i,
                        orders: hasOrders ? orderHits[i] : nil)
        }
        return true
    }

    /// Sends a subscriber its message: the earlier-held fixes in its backlog, then the hit list from `hits` (a
    /// `TrackingIndex` hit, -1 for none). Holds the message back over the soft budget; evicts past the hard one.
    private func flush(_ sub: TrackingSubscriber, hits: Int32, json: UnsafeRawBufferPointer,
                       records: UnsafeRawBufferPointer) {
        let connection = sub.connection
        guard connection.isOpen else { return }
        let nowMs = pass.nowMs
        let queued = connection.queuedBytes
        if queued > configuration.hardBudgetBytes {
            evict(sub)
            return
        }
        if queued > configuration.softBudgetBytes {
            let since = sub.overBudgetSinceMs ?? nowMs
            sub.overBudgetSinceMs = since
            if nowMs - since >= configuration.maxStalledMs {
                evict(sub)
                return
            }
            forEachHit(from: hits, visibleTo: nil) { i in sub.backlog.insert(sending.states[i].id.rawValue) }
            backlogged[ObjectIdentifier(sub)] = sub
            stats.skippedTicks &+= 1
            return
        }
        sub.overBudgetSinceMs = nil
        extraScratch.removeAll(keepingCapacity: true)
        if !sub.backlog.isEmpty {
            // Held drivers go out as the table has them now, except those this tick's hits carry anyway.
            hitIDs.removeAll()
            forEachHit(from: hits, visibleTo: nil) { i in hitIDs.insert(sending.states[i].id.rawValue) }
                        sub.backlog.forEach { id in
                guard !hitIDs.contains(id), let s = latestState(of: id) else { return }
                extraScratch.append(s)
            }
            sub.backlog.removeAll()
            backlogged.removeValue(forKey: ObjectIdentifier(sub))
        }
        let filtered = sub.fleet != nil
        let n = sub.binary
            ? buildBinary(sub, hits: hits, records: records, filtered: filtered)
            : buildJSON(sub, hits: hits, json: json, filtered: filtered)
        guard n > 0 else { return }
        if connection.send(frame, binary: sub.binary) {
            stats.messages &+= 1
            stats.positions &+= UInt64(n)
        }
        if connection.queuedBytes > configuration.hardBudgetBytes { evict(sub) }
    }

    /// Writes `{"type":"positions","drivers":[…]}` into `frame`: held fixes, then the hit list's shared JSON.
    /// Returns the number of drivers written.
    private func buildJSON(_ sub: TrackingSubscriber, hits: Int32, json: UnsafeRawBufferPointer, filtered: Bool) -> Int {
        frame.reset()
        frame.append(Self.jsonPrefix)
        var n = 0
        if !extraScratch.isEmpty {
            var w = JSONWriter(capacity: 128)
            for s in extraScratch where !filtered || isVisible(s.id.rawValue, to: sub) {
                w.reset()
                PositionBatch.writeJSON(&w, s)
                if n > 0 { frame.append(UInt8(ascii: ",")) }
                frame.append(w.bytes)
                n += 1
            }
        }
        forEachHit(from: hits, visibleTo: filtered ? sub : nil) { i in
            if n > 0 { frame.append(UInt8(ascii: ",")) }
            frame.append(UnsafeRawBufferPointer(rebasing: json[sending.jsonStart(i)..<sending.jsonEnds[i]]))
            n += 1
        }
        frame.append(Self.jsonSuffix)
        return n
    }

    /// Writes a binary positions message (docs/websocket.md) into `frame`. Returns the number of drivers written.
    private func buildBinary(_ sub: TrackingSubscriber, hits: Int32, records: UnsafeRawBufferPointer,
                             filtered: Bool) -> Int {
        frame.reset()
        frame.append(count: PositionMessage.binaryHeaderBytes) { header in
            header.storeBytes(of: PositionMessage.binaryType, toByteOffset: 0, as: UInt8.self)
            header.storeBytes(of: PositionMessage.binaryVersion, toByteOffset: 1, as: UInt8.self)
            header.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
            header.storeBytes(of: 0, toByteOffset: 4, as: UInt32.self)
        }
        var n = 0
        for s in extraScratch where !filtered || isVisible(s.id.rawValue, to: sub) {
            frame.append(count: PingWire.recordBytes) { PositionBatch.writeRecord(s, into: $0) }
            n += 1
        }
        forEachHit(from: hits, visibleTo: filtered ? sub : nil) { i in
            let o = i * PingWire.recordBytes
            frame.append(UnsafeRawBufferPointer(rebasing: records[o..<(o + PingWire.recordBytes)]))
            n += 1
        }
        frame.storeUInt32LE(UInt32(n), atPayloadOffset: 4)
        return n
    }

    /// Calls `body` with the batch index of each hit in the list starting at `hits`, in order; with `visibleTo`,
    /// only the drivers that subscriber's fleet may see.
    @inline(__always)
    private func forEachHit(from hits: Int32, visibleTo sub: TrackingSubscriber?, _ body: (Int) -> Void) {
        var h = hits
        while h >= 0 {
            let i = Int(index.hitIndex[Int(h)])
            h = index.hitNext[Int(h)]
            if let sub, !isVisible(sending.states[i].id.rawValue, to: sub) { continue }
            body(i)
        }
    }

    private func evict(_ sub: TrackingSubscriber) {
        stats.evictions &+= 1
        metrics.wsEvictions.increment()
        sub.backlog.removeAll()
        backlogged.removeValue(forKey: ObjectIdentifier(sub))
        sub.connection.close(code: configuration.evictionCloseCode, reason: "client too slow")
    }

    /// Sends a JSON event to every subscriber of an order (orders and dispatch call this through the hooks).
    func push(order: UInt64, _ json: [UInt8]) {
        guard let watching = index.orderSlots[order] else { return }
        for slot in watching {
            guard let sub = slots[Int(slot)], !sub.closed else { continue }
            if sub.connection.queuedBytes > configuration.hardBudgetBytes { evict(sub); continue }
            sub.connection.send(textBytes: json)
        }
    }
}

import CoreMetrics
import EventLoop
import FleetIndex
import HTTPServer
import HexGeo
import Prometheus

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
    unowned let engine: Engine
    let configuration: TrackingConfiguration
    private var subscribers: [ObjectIdentifier: TrackingSubscriber] = [:]
    private var driverIndex: [UInt64: [TrackingSubscriber]] = [:]
    private var orderIndex: [UInt64: [TrackingSubscriber]] = [:]
    private var gridIndex: [Int64: [TrackingSubscriber]] = [:]
    private var wideBBoxes: [TrackingSubscriber] = []
    private var cellIndex: [H3Cell: [TrackingSubscriber]] = [:]
    private var cellsPerResolution = [Int](repeating: 0, count: H3.maxResolution + 1)
    private var binarySubscribers = 0
    /// Fixes accepted since the last tick.
    private var batch = PositionBatch()
    /// The batch being sent (its bytes stay valid until every touched subscriber got its message).
    private var sending = PositionBatch()
    private var isSending = false
    private var cursor = 0
    private var matchCursor = 0
    private var matchFinest = -1
    private var tickNowMs: Int64 = 0
    private var tickWorkNs: UInt64 = 0
    private var sliceWakeup: AsyncWakeup<Void>?
    private var touched: [TrackingSubscriber] = []
    private var backlogged: [ObjectIdentifier: TrackingSubscriber] = [:]
    private var markBase = 0
    private var scratch: [UInt8] = []
    private var extraScratch: [DriverState] = []
    private var orderHits: [Int: [UInt64]] = [:]
    private var keepalives: KeepaliveRounds
    private var opened: UInt64 = 0

    /// Plain counters, flushed to Prometheus once per tick.
    private(set) var stats = TrackingStatistics()
    private var flushed = TrackingStatistics()
    private let messagesMetric: CoreMetrics.Counter
    private let positionsMetric: CoreMetrics.Counter
    private let skippedMetric: CoreMetrics.Counter
    private let subscribersMetric: CoreMetrics.Gauge
    private let tickMetric: CoreMetrics.Timer

    init(engine: Engine, configuration: TrackingConfiguration) {
        self.engine = engine
        self.configuration = configuration
        keepalives = KeepaliveRounds(keepaliveMs: configuration.keepaliveMs, tickMs: engine.configuration.trackTickMs)
        let f = PrometheusMetricsFactory(registry: engine.metrics.registry)
        messagesMetric = CoreMetrics.Counter(label: "hexfleet_track_messages_total", factory: f)
        positionsMetric = CoreMetrics.Counter(label: "hexfleet_track_positions_total", factory: f)
        skippedMetric = CoreMetrics.Counter(label: "hexfleet_track_skipped_ticks_total", factory: f)
        subscribersMetric = CoreMetrics.Gauge(label: "hexfleet_track_connections", factory: f)
        tickMetric = CoreMetrics.Timer(label: "hexfleet_track_tick_seconds", factory: f)
    }

    /// Runs when a connection opens or closes (the install wires it to `hexfleet_ws_connections`).
    var connectionsChanged: () -> Void = {}

    /// Open tracking connections.
    var connectionCount: Int { subscribers.count }

    // MARK: Connections

    /// Checks an upgrade: a valid token (or none when public tracking is on) and a known `format`.
    func accept(_ request: HTTPRequest) -> APIError? {
        do {
            let principal = try engine.webSocketPrincipal(request)
            if principal == nil && !engine.publicTracking {
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
        let principal = (try? engine.webSocketPrincipal(request)) ?? nil
        let sub = TrackingSubscriber(connection: connection, principal: principal,
                                     binary: request.query("format") == "binary")
        opened &+= 1
        sub.keepaliveSlot = keepalives.slot(of: opened)
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
        for d in sub.drivers { Self.detach(sub, from: &driverIndex, key: d) }
        for o in sub.orders { Self.detach(sub, from: &orderIndex, key: o) }
        for b in sub.bboxes { unindex(b, sub) }
        for c in sub.cells { detachCell(c, sub) }
        sub.drivers = []; sub.orders = []; sub.bboxes = []; sub.cells = []; sub.backlog = [:]
        if sub.binary { binarySubscribers -= 1 }
        backlogged.removeValue(forKey: ObjectIdentifier(sub))
        subscribers.removeValue(forKey: ObjectIdentifier(sub))
        connectionsChanged()
    }

    /// Closes every connection (engine stop).
    func stop() {
        sliceWakeup?.close()
        sliceWakeup = nil
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
            case .driver?: guard p?.subject == String(id) else { throw APIError(.forbidden, "a driver may follow only itself") }
            default: throw APIError(.forbidden, "this token may not follow drivers")
            }
            if !sub.drivers.contains(id) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.drivers.append(id)
                driverIndex[id, default: []].append(sub)
            }
            if let s = engine.table.state(of: DriverID(id)) { hold(s, for: sub) }
            ack(sub, "subscribed") { w in w.key("driver"); w.number(id) }
        } else if let v = m["order"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "order is an unsigned 64-bit id") }
            switch p?.role {
            case .admin?, .dispatcher?: break
            case .customer?: guard engine.hooks.customerOfOrder(id) == p?.subject else { throw APIError(.forbidden, "not your order") }
            case .driver?: guard engine.hooks.courierOfOrder(id).map({ String($0.rawValue) }) == p?.subject else {
                throw APIError(.forbidden, "not your order")
            }
            case nil: throw APIError(.forbidden, "following an order needs a token")
            }
            if !sub.orders.contains(id) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.orders.append(id)
                orderIndex[id, default: []].append(sub)
            }
            if let courier = engine.hooks.courierOfOrder(id), isVisible(courier.rawValue, to: sub),
               let s = engine.table.state(of: courier) { hold(s, for: sub) }
            ack(sub, "subscribed") { w in w.key("order"); w.number(id) }
        } else if let v = m["bbox"] {
            try requireAreaPermission(sub)
            let b = try Self.bbox(v)
            if !sub.bboxes.contains(b) {
                guard sub.subscriptionCount < configuration.maxSubscriptions else { throw tooMany() }
                sub.bboxes.append(b)
                index(b, sub)
            }
            snapshot(sub, bbox: b)
            ack(sub, "subscribed") { w in w.key("bbox"); Self.writeBBox(&w, v) }
        } else if let v = m["cells"] {
            try requireAreaPermission(sub)
            let cells = try Self.cells(v, max: configuration.maxCellsPerSubscription)
            let fresh = cells.filter { !sub.cells.contains($0) }
            guard sub.cells.count + Set(fresh).count <= configuration.maxCellsPerConnection else { throw tooMany() }
            for c in fresh where sub.cells.insert(c).inserted {
                cellIndex[c, default: []].append(sub)
                cellsPerResolution[H3.getResolution(c)] += 1
            }
            let states = (try? engine.table.drivers(inCells: cells, nowMs: engine.nowMs)) ?? []
            for s in states.prefix(configuration.maxSnapshotDrivers) where isVisible(s.id.rawValue, to: sub) { hold(s, for: sub) }
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
                Self.detach(sub, from: &driverIndex, key: id)
            }
            ack(sub, "unsubscribed") { w in w.key("driver"); w.number(id) }
        } else if let v = m["order"] {
            guard let id = v.uint64 else { throw APIError(.invalidParameter, "order is an unsigned 64-bit id") }
            if let i = sub.orders.firstIndex(of: id) {
                sub.orders.remove(at: i)
                Self.detach(sub, from: &orderIndex, key: id)
            }
            ack(sub, "unsubscribed") { w in w.key("order"); w.number(id) }
        } else if let v = m["bbox"] {
            let b = try Self.bbox(v)
            if let i = sub.bboxes.firstIndex(of: b) {
                sub.bboxes.remove(at: i)
                unindex(b, sub)
            }
            ack(sub, "unsubscribed") { w in w.key("bbox"); Self.writeBBox(&w, v) }
        } else if let v = m["cells"] {
            let cells = try Self.cells(v, max: configuration.maxCellsPerConnection)
            for c in cells where sub.cells.remove(c) != nil { detachCell(c, sub) }
            ack(sub, "unsubscribed") { w in w.key("cells"); w.number(cells.count) }
        } else {
            throw APIError(.invalidParameter, "unsubscribe from a driver, order, bbox or cells")
        }
    }

    private func requireAreaPermission(_ sub: TrackingSubscriber) throws(APIError) {
        if engine.publicTracking { return }
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

    // MARK: Indexes

    private static func detach<K: Hashable>(_ sub: TrackingSubscriber, from index: inout [K: [TrackingSubscriber]], key: K) {
        guard var list = index[key], let i = list.firstIndex(where: { $0 === sub }) else { return }
        list.remove(at: i)
        index[key] = list.isEmpty ? nil : list
    }

    private func index(_ b: TrackBBox, _ sub: TrackingSubscriber) {
        if let keys = b.gridKeys(sideE7: configuration.bboxGridE7, limit: configuration.maxBBoxGridSquares) {
            for k in keys { gridIndex[k, default: []].append(sub) }
        } else if !sub.inWideList {
            sub.inWideList = true
            wideBBoxes.append(sub)
        }
    }

    private func unindex(_ b: TrackBBox, _ sub: TrackingSubscriber) {
        if let keys = b.gridKeys(sideE7: configuration.bboxGridE7, limit: configuration.maxBBoxGridSquares) {
            for k in keys { Self.detach(sub, from: &gridIndex, key: k) }
        } else if sub.inWideList {
            let stillWide = sub.bboxes.contains {
                $0.gridKeys(sideE7: configuration.bboxGridE7, limit: configuration.maxBBoxGridSquares) == nil
            }
            if !stillWide || sub.closed {
                sub.inWideList = false
                wideBBoxes.removeAll { $0 === sub }
            }
        }
    }

    private func detachCell(_ c: H3Cell, _ sub: TrackingSubscriber) {
        Self.detach(sub, from: &cellIndex, key: c)
        cellsPerResolution[H3.getResolution(c)] -= 1
    }

    private func isVisible(_ driver: UInt64, to sub: TrackingSubscriber) -> Bool {
        guard let fleet = sub.fleet else { return true }
        guard let f = engine.hooks.fleetOfDriver(DriverID(driver)) else { return true }
        return f == fleet
    }

    /// Queues a state for the subscriber's next message (subscription snapshots).
    private func hold(_ s: DriverState, for sub: TrackingSubscriber) {
        sub.backlog[s.id.rawValue] = s
        backlogged[ObjectIdentifier(sub)] = sub
    }

    /// Queues the live drivers a new bbox subscription already covers (at most `maxSnapshotDrivers`). A table of
    /// up to `maxSnapshotScanRows` is scanned; a larger one is asked for the bbox's polygon when the bbox is small,
    /// and a wide bbox over a huge table gets no snapshot (its drivers arrive as they move, within seconds).
    private func snapshot(_ sub: TrackingSubscriber, bbox b: TrackBBox) {
        let now = engine.nowMs
        let freshAfter = now - engine.table.staleAfterMs
        var candidates: [DriverState]
        if engine.table.count <= configuration.maxSnapshotScanRows {
            candidates = engine.table.allStates()
        } else if let keys = b.gridKeys(sideE7: configuration.bboxGridE7, limit: 64), !keys.isEmpty {
            let lo = LatLng(degrees: Double(b.minLatE7) * 1e-7, Double(b.minLngE7) * 1e-7)
            let hi = LatLng(degrees: Double(b.maxLatE7) * 1e-7, Double(b.maxLngE7) * 1e-7)
            let ring = [lo, LatLng(lat: lo.lat, lng: hi.lng), hi, LatLng(lat: hi.lat, lng: lo.lng)]
            candidates = engine.table.drivers(in: GeoPolygon(outer: ring), nowMs: now)
        } else {
            candidates = []
        }
        var n = 0
        for s in candidates where s.timestampMs >= freshAfter && b.contains(latE7: s.latE7, lngE7: s.lngE7)
            && isVisible(s.id.rawValue, to: sub) {
            hold(s, for: sub)
            n += 1
            if n >= configuration.maxSnapshotDrivers { break }
        }
    }

    // MARK: Fan-out

    /// Notes an accepted fix (every transport); it goes out at the next tick.
    func noteAccepted(_ s: DriverState) {
        // Nobody watching: nothing to match or encode this tick (a new subscriber gets a snapshot anyway).
        guard !subscribers.isEmpty else { return }
        batch.add(s)
    }

    @inline(__always)
    private func deliver(_ sub: TrackingSubscriber, _ i: Int, mark: Int) {
        guard sub.lastMark != mark else { return }
        sub.lastMark = mark
        if sub.fleet != nil && !isVisible(sending.states[i].id.rawValue, to: sub) { return }
        if sub.pending.isEmpty { touched.append(sub) }
        sub.pending.append(Int32(truncatingIfNeeded: i))
    }

    /// One tick: match every driver that moved since the last tick and send each touched subscriber one message.
    ///
    /// Matching and sending are sliced: after `sliceBudgetNs` (1 ms) of work the rest continues on the next loop iteration (a 0 ms
    /// timer), so sockets, UDP ingest and HTTP are served in between and loop lag stays bounded however many
    /// subscribers there are. Fixes arriving meanwhile collect in the next batch; a tick that finds the previous
    /// one still sending is skipped (its drivers wait in the batch, latest fix each).
    func tick(nowMs: Int64) {
        defer { flushMetrics() }
        // Every connection is pinged once per keepalive interval, a slot's share per tick.
        let slot = keepalives.next()
        for sub in subscribers.values where sub.keepaliveSlot == slot && !sub.closed { sub.connection.ping() }
        guard !isSending else { return }
        guard !batch.isEmpty || !backlogged.isEmpty else { return }
        swap(&batch, &sending)
        batch.removeAll()
        tickNowMs = nowMs
        tickWorkNs = 0
        let started = Loop.nanoseconds
        prepareMatch()
        tickWorkNs &+= Loop.nanoseconds &- started
        isSending = true
        flushSlice()
    }

    /// One slice of a tick's work: matching, then sending; yields to the loop when its budget is spent.
    private func flushSlice() {
        let started = Loop.nanoseconds
        let deadline = started &+ configuration.sliceBudgetNs
        if !matchSome(deadline: deadline) {
            tickWorkNs &+= Loop.nanoseconds &- started
            scheduleSlice()
            return
        }
        while cursor < touched.count {
            let sub = touched[cursor]
            cursor += 1
            if !sub.closed { flush(sub, nowMs: tickNowMs) }
            // A clock read is ~20 ns; one big message can take a millisecond, so check after each one.
            if cursor < touched.count && Loop.nanoseconds > deadline {
                tickWorkNs &+= Loop.nanoseconds &- started
                scheduleSlice()
                return
            }
        }
        for sub in touched { sub.pending.removeAll(keepingCapacity: true) }
        touched.removeAll(keepingCapacity: true)
        cursor = 0
        if !backlogged.isEmpty {
            for sub in Array(backlogged.values) where !sub.closed && sub.pending.isEmpty && !sub.backlog.isEmpty {
                flush(sub, nowMs: tickNowMs)
            }
        }
        markBase &+= sending.count
        sending.removeAll()
        isSending = false
        tickWorkNs &+= Loop.nanoseconds &- started
        tickMetric.recordNanoseconds(Int64(clamping: tickWorkNs))
    }

    /// Continues sending on the next loop iteration. An async wake-up, not a 0 ms timer: libuv 1.44 runs a timer
    /// re-armed with 0 ms again in the same timer pass, before any I/O, which would defeat the slicing.
    private func scheduleSlice() {
        if sliceWakeup == nil {
            sliceWakeup = try? AsyncWakeup<Void>(loop: engine.loop) { [unowned self] _ in self.flushSlice() }
            sliceWakeup?.keepsLoopAlive = false
        }
        guard let wakeup = sliceWakeup, wakeup.send(()) else {
            flushSlice()   // no wake-up handle: finish now rather than never
            return
        }
    }

    /// Encodes the batch once and resolves which followed orders' couriers moved.
    private func prepareMatch() {
        matchCursor = 0
        sending.encode(binary: binarySubscribers > 0)
        orderHits.removeAll(keepingCapacity: true)
        if !orderIndex.isEmpty {
            for order in orderIndex.keys {
                if let c = engine.hooks.courierOfOrder(order), let i = sending.index(of: c.rawValue) {
                    orderHits[i, default: []].append(order)
                }
            }
        }
        matchFinest = -1
        if !cellIndex.isEmpty {
            for r in stride(from: H3.maxResolution, through: 0, by: -1) where cellsPerResolution[r] > 0 { matchFinest = r; break }
        }
    }

    /// Matches moved drivers to subscribers from `matchCursor` on, until done (true) or past `deadline` (false).
    private func matchSome(deadline: UInt64) -> Bool {
        let side = configuration.bboxGridE7
        let finest = matchFinest
        while matchCursor < sending.count {
            let i = matchCursor
            matchCursor += 1
            if i & 63 == 63 && Loop.nanoseconds > deadline { matchCursor = i; return false }
            let s = sending.states[i]
            let mark = markBase &+ i
            if let subs = driverIndex[s.id.rawValue] { for sub in subs { deliver(sub, i, mark: mark) } }
            if let orders = orderHits[i] {
                for o in orders { if let subs = orderIndex[o] { for sub in subs { deliver(sub, i, mark: mark) } } }
            }
            if !gridIndex.isEmpty, let subs = gridIndex[TrackBBox.gridKey(latE7: s.latE7, lngE7: s.lngE7, sideE7: side)] {
                for sub in subs where sub.lastMark != mark && sub.containsInBBox(latE7: s.latE7, lngE7: s.lngE7) {
                    deliver(sub, i, mark: mark)
                }
            }
            for sub in wideBBoxes where sub.lastMark != mark && sub.containsInBBox(latE7: s.latE7, lngE7: s.lngE7) {
                deliver(sub, i, mark: mark)
            }
            if finest >= 0, let cell = try? H3.latLngToCell(s.position, resolution: finest) {
                for r in stride(from: finest, through: 0, by: -1) where cellsPerResolution[r] > 0 {
                    guard let c = r == finest ? cell : try? H3.cellToParent(cell, resolution: r) else { continue }
                    if let subs = cellIndex[c] { for sub in subs { deliver(sub, i, mark: mark) } }
                }
            }
        }
        return true
    }

    /// Sends a subscriber its message for this tick, or holds it back (soft budget), or evicts it (hard budget).
    private func flush(_ sub: TrackingSubscriber, nowMs: Int64) {
        let connection = sub.connection
        guard connection.isOpen else { return }
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
            for i in sub.pending { let s = sending.states[Int(i)]; sub.backlog[s.id.rawValue] = s }
            backlogged[ObjectIdentifier(sub)] = sub
            stats.skippedTicks &+= 1
            return
        }
        sub.overBudgetSinceMs = nil
        extraScratch.removeAll(keepingCapacity: true)
        if !sub.backlog.isEmpty {
            for i in sub.pending { sub.backlog.removeValue(forKey: sending.states[Int(i)].id.rawValue) }
            extraScratch.append(contentsOf: sub.backlog.values)
            sub.backlog.removeAll()
            backlogged.removeValue(forKey: ObjectIdentifier(sub))
        }
        let n = sub.pending.count + extraScratch.count
        guard n > 0 else { return }
        let sent: Bool
        if sub.binary {
            PositionMessage.binary(into: &scratch, batch: sending, indices: sub.pending, extra: extraScratch)
            sent = connection.send(binary: scratch)
        } else {
            PositionMessage.json(into: &scratch, batch: sending, indices: sub.pending, extra: extraScratch)
            sent = connection.send(textBytes: scratch)
        }
        if sent {
            stats.messages &+= 1
            stats.positions &+= UInt64(n)
        }
        if connection.queuedBytes > configuration.hardBudgetBytes { evict(sub) }
    }

    private func evict(_ sub: TrackingSubscriber) {
        stats.evictions &+= 1
        engine.metrics.wsEvictions.increment()
        sub.pending.removeAll()
        sub.backlog.removeAll()
        backlogged.removeValue(forKey: ObjectIdentifier(sub))
        sub.connection.close(code: configuration.evictionCloseCode, reason: "client too slow")
    }

    /// Sends a JSON event to every subscriber of an order (orders and dispatch call this through the hooks).
    func push(order: UInt64, _ json: [UInt8]) {
        guard let subs = orderIndex[order] else { return }
        for sub in subs where !sub.closed {
            if sub.connection.queuedBytes > configuration.hardBudgetBytes { evict(sub); continue }
            sub.connection.send(textBytes: json)
        }
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

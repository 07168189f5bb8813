import EventLoop
import FleetIndex
import HTTPServer
import JSON
import Vocabulary

/// The tick: match every driver that moved against the subscriptions, then send each touched subscriber one
/// message built in place (`WebSocketFrameBuilder`), or hold it back (soft budget), or evict it (hard budget).
extension TrackingHub {
    private static let jsonPrefix = Array(#"{"type":"positions","drivers":["#.utf8)
    private static let jsonSuffix = Array("]}".utf8)

    /// Notes an accepted fix (every transport) and asks for a fan-out: on the next loop iteration when the last one
    /// began at least `trackTickMs` ago (the leading edge: a quiet hub sends at once), else when that time is up, or
    /// right after the fan-out in progress ends. Fixes arriving meanwhile coalesce (latest per driver), so a busy hub
    /// sends fewer, fuller messages and a quiet one sends each fix within a loop iteration.
    func noteAccepted(_ s: DriverState) {
        // Nobody watching: nothing to match or encode (a new subscriber gets a snapshot anyway).
        guard !subscribers.isEmpty else { return }
        batch.add(s)
        requestFanout()
    }

    private func requestFanout() {
        if isSending { fanoutPending = true; return }
        if fanoutPending || fanoutTimerArmed { return }
        let gapNs = (configuration.fanoutIntervalMs ?? tickMs) &* 1_000_000
        let now = Loop.nanoseconds
        if now &- lastFanoutStartNs >= gapNs {
            fanoutPending = true
            scheduleSlice()
            return
        }
        if fanoutTimer == nil {
            fanoutTimer = try? EventLoop.Timer(loop: loop)
            fanoutTimer?.keepsLoopAlive = false
        }
        let waitMs = max(1, (lastFanoutStartNs &+ gapNs &- now + 999_999) / 1_000_000)
        do {
            try fanoutTimer?.start(afterMs: waitMs) { [unowned self] in
                self.fanoutTimerArmed = false
                self.requestFanout()
            }
            fanoutTimerArmed = fanoutTimer != nil
        } catch {
            fanoutTimerArmed = false   // no timer: the engine tick sends it
        }
    }

    /// One tick: keepalive pings for this tick's share of the connections, then a fan-out of anything still waiting
    /// (a backlog that drained; fixes are normally sent by `requestFanout` already). A tick that finds a fan-out
    /// still sending is noted, and the next one starts on the loop iteration after it ends.
    func tick(nowMs: Int64) {
        defer { flushMetrics() }
        // A subscriber's slot decides its keepalive round: this walks only the round's share of the slots.
        let round = keepalives.next()
        for i in stride(from: round, to: bySlot.count, by: keepalives.slots) {
            if let sub = bySlot[i], !sub.closed { sub.connection.ping() }
        }
        guard !isSending else { fanoutPending = true; return }
        if fanoutPending || fanoutTimerArmed { return }
        startFanout(nowMs: nowMs)
    }

    private func startFanout(nowMs: Int64) {
        guard !batch.isEmpty || !backlogged.isEmpty else { return }
        lastFanoutStartNs = Loop.nanoseconds
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

    /// One slice of a fan-out: matching, then sending; yields to the loop once `sliceBudgetNs` (1 ms) is spent.
    /// The rest continues on the next loop iteration, so sockets, UDP ingest and HTTP are served in between and
    /// loop lag stays bounded however many subscribers there are. Fixes arriving meanwhile collect in the next batch.
    func flushSlice() {
        let started = Loop.nanoseconds
        let deadline = started &+ configuration.sliceBudgetNs
        if !matchSome(deadline: deadline) {
            tickWorkNs &+= Loop.nanoseconds &- started
            scheduleSlice()
            return
        }
        let touched = index.touched
        if cursor < touched.count {
            let finished = sendSome(touched, deadline: deadline)
            if !finished {
                tickWorkNs &+= Loop.nanoseconds &- started
                scheduleSlice()
                return
            }
        }
        cursor = 0
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
        isSending = false
        releaseSlots()
        tickWorkNs &+= Loop.nanoseconds &- started
        tickMetric.recordNanoseconds(Int64(clamping: tickWorkNs))
        if fanoutPending { scheduleSlice() }
    }

    /// Sends touched subscribers their messages from `cursor` on; false when the deadline stopped it first.
    private func sendSome(_ touched: [Int32], deadline: UInt64) -> Bool {
        let heads = index.head
        sending.json.withUnsafeBytes { json in
            sending.binary.withUnsafeBytes { records in
                while cursor < touched.count {
                    let slot = Int(touched[cursor])
                    cursor += 1
                    if let sub = bySlot[slot], !sub.closed {
                        flush(sub, hits: heads[slot], json: json, records: records)
                    }
                    // A clock read is ~20 ns; one big message can take a millisecond, so check after each one.
                    if cursor < touched.count && Loop.nanoseconds > deadline { return }
                }
            }
        }
        return cursor >= touched.count
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
        if isSending {
            flushSlice()
        } else if fanoutPending {
            fanoutPending = false
            startFanout(nowMs: clock.nowMs)
            flushMetrics()
        }
    }

    /// Starts encoding the batch (each driver once, as it is matched) and resolves which followed orders' couriers
    /// moved.
    private func prepareMatch() {
        matchCursor = 0
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

    /// Matches moved drivers to subscribers from `matchCursor` on, until done (true) or past `deadline` (false).
    private func matchSome(deadline: UInt64) -> Bool {
        let hasOrders = !orderHits.isEmpty
        while matchCursor < sending.count {
            let i = matchCursor
            if i & 15 == 15 && Loop.nanoseconds > deadline { return false }
            matchCursor += 1
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
        let nowMs = tickNowMs
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
            let table = table
            sub.backlog.forEach { id in
                guard !hitIDs.contains(id), let s = table.state(of: DriverID(id)) else { return }
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

    func evict(_ sub: TrackingSubscriber) {
        stats.evictions &+= 1
        metrics.wsEvictions.increment()
        sub.backlog.removeAll()
        backlogged.removeValue(forKey: ObjectIdentifier(sub))
        sub.connection.close(code: configuration.evictionCloseCode, reason: "client too slow")
    }

    /// Sends a JSON event to every subscriber of an order (orders and dispatch call this through the hooks).
    func push(order: UInt64, _ json: [UInt8]) {
        guard let slots = index.orderSlots[order] else { return }
        for slot in slots {
            guard let sub = bySlot[Int(slot)], !sub.closed else { continue }
            if sub.connection.queuedBytes > configuration.hardBudgetBytes { evict(sub); continue }
            sub.connection.send(textBytes: json)
        }
    }
}

import Dispatcher
import Engine
import Foundation
import HexGeo
import Routing
import Synchronization

/// The online simulator: drivers from `RoadMover` ping a running engine over UDP in wall-clock time; orders go
/// through the HTTP API; a prober measures ping → index latency by polling `GET /v1/drivers/{id}` until the ping's
/// timestamp shows. Accepted pings come from the engine's `/metrics`, never from the simulator's own count.
///
/// Threads: the calling thread sends pings (a timing wheel of 10 ms slots) and runs the order agents; one prober
/// thread owns its own HTTP connection. They share only the `ProbeBoard`.
struct OnlineSimulation {
    struct Config: Sendable {
        var udp: HostPort
        var http: HostPort
        var secret: [UInt8]
        var adminToken: String?
        var drivers = 100
        var durationSeconds = 60.0
        var seed: UInt64 = 1
        var batch = 1
        var gatewayID: UInt64 = 1
        var periodSeconds = 2.0
        var jitter = 0.1
        var firstDriverID: UInt64 = 1
        var ordersPerMinute = 0.0
        var acceptProbability = 0.9
        var reportEverySeconds = 5.0
        var hubs = 40
        var hotSpots = 3
        /// Seconds at the pick-up and drop-off.
        var handoverSeconds = 30.0
        /// How pings travel.
        var transport = Transport.udp
        /// What the simulator's customers and couriers play: the roaming city (`OrderAgents`) or the food
        /// scenario (`FoodCourierAgents`, couriers that follow their planned route).
        var scenario = SimulationScenario.city
        /// `--policy`: `stacked` couriers take orders up to their capacity; nil or `single`, one at a time.
        var policy: SimulationPolicy?
        /// Food scenario: how long the run goes on after the order window while orders are still open.
        var drainSeconds = 0.0
    }

    /// `--transport` values: signed UDP datagrams, or one `/v1/ws/driver` WebSocket per driver.
    enum Transport: String, Sendable, CaseIterable { case udp, ws }

    let config: Config
    let network: RoadNetwork

    /// Runs for `durationSeconds` of wall time and returns the report.
    func run(progress: @escaping (String) -> Void) throws -> SimReport {
        let keys = PingKeys(secret: config.secret)
        let signer = SimSigner(keys: keys, firstID: config.firstDriverID, count: config.batch == 1 ? config.drivers : 0)
        return try runLoop(signer: signer, gatewayKey: keys.preparedGateway(config.gatewayID), progress: progress)
    }

    static var wallMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    static var monoNanos: UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func runLoop(signer: SimSigner, gatewayKey: PreparedHMAC, progress: @escaping (String) -> Void) throws -> SimReport {
        let c = config
        let sender = try SimUDPSender(host: c.udp.host, port: c.udp.port)
        let http = SimHTTPClient(host: c.http.host, port: c.http.port, token: c.adminToken)
        let label = c.transport.rawValue
        var sockets: SimWebSocketFleet?
        if c.transport == .ws {
            let opened = ContinuousClock.now
            sockets = try SimWebSocketFleet(host: c.http.host, port: c.http.port, token: c.adminToken ?? "",
                                            driverIDs: (0..<c.drivers).map { c.firstDriverID + UInt64($0) }, seed: c.seed)
            progress("\(c.drivers) WebSocket connections open in \(ContinuousClock.now - opened)")
        }
        var nextDrainMs: Int64 = 0
        var report = SimReport()
        report.mode = "online"
        report.policy = nil   // the engine's own
        report.seed = c.seed
        report.drivers = c.drivers
        report.durationSeconds = c.durationSeconds
        report.ordersPerMinute = c.ordersPerMinute

        let baseline = Self.acceptedPings(http, transport: label)
        if baseline == nil { progress("warning: cannot read /metrics on \(c.http.host):\(c.http.port); accepted pings unknown") }
        let setupStartMs = Self.wallMs
        let setupStart = ContinuousClock.now
        let mover = try RoadMover(network: network, driverCount: c.drivers, seed: c.seed, startMs: setupStartMs, hubCount: c.hubs)
        progress("fleet of \(c.drivers) ready in \(ContinuousClock.now - setupStart)")
        var agents: OrderAgents?
        var foodAgents: FoodCourierAgents?
        if c.scenario == .food {
            foodAgents = FoodCourierAgents(config: c, network: network, mover: mover, http: http, startMs: Self.wallMs,
                                           progress: progress)
            report.food = SimReport.FoodFigures()
        } else {
            agents = OrderAgents(config: c, network: network, mover: mover, http: http, progress: progress)
        }
        var rng = SimRandom(seed: c.seed, stream: 4)
        var status = [UInt8](repeating: 1, count: c.drivers)

        // Prober.
        let board = ProbeBoard()
        let prober = Thread { [c] in
            let client = SimHTTPClient(host: c.http.host, port: c.http.port, token: c.adminToken, timeoutSeconds: 2)
            board.serve(client)
        }
        prober.start()

        // Timing wheel.
        let slotMs: Int64 = 10
        let periodSlots = max(1, Int((c.periodSeconds * 1000 / Double(slotMs)).rounded()))
        let wheelSize = periodSlots * 2 + 2
        var wheel = [[Int32]](repeating: [], count: wheelSize)
        for i in 0..<c.drivers { wheel[rng.index(periodSlots)].append(Int32(i)) }
        var spare: [Int32] = []
        var tick: Int64 = -1
        // The run's clock starts once the fleet is set up: a slow set-up (a sanitized build, a loaded machine) used to
        // eat the whole of a short --duration, and the run sent nothing.
        let startMs = Self.wallMs
        let endMs = startMs + Int64(c.durationSeconds * 1000)
        // The food scenario drains: the run goes on past the order window while orders are open, up to this.
        let drainEndMs = endMs + (c.scenario == .food ? Int64(c.drainSeconds * 1000) : 0)
        var nextReportMs = startMs + Int64(c.reportEverySeconds * 1000)
        var nextProbeMs = startMs + 100
        var lateSlots = 0

        let batch = c.batch
        var out = [UInt8](repeating: 0, count: PingWire.datagramLength(records: batch))
        var inBatch = 0
        func flushBatch() {
            guard inBatch > 0 else { return }
            let length = PingWire.datagramLength(records: inBatch)
            out.withUnsafeMutableBytes { all in
                let d = UnsafeMutableRawBufferPointer(rebasing: all[0..<length])
                PingWire.writeHeader(flags: PingWire.gatewayFlag, recordCount: inBatch, signerID: c.gatewayID, into: d)
                signer.sign(d, key: gatewayKey)
                if sender.send(UnsafeRawBufferPointer(d)) { report.datagramsSent &+= 1 }
            }
            inBatch = 0
        }

        while true {
            let now = Self.wallMs
            if now >= endMs && (now >= drainEndMs || !(foodAgents?.hasOpenWork ?? false)) { break }
            let target = (now - startMs) / slotMs
            if target - tick > 2 { lateSlots += 1 }
            // A sender behind schedule catches up slot by slot, but never past the end of the run.
            while tick < target && (tick == target - 1 || Self.wallMs < drainEndMs) {
                tick += 1
                let slot = Int(tick % Int64(wheelSize))
                swap(&spare, &wheel[slot])
                var probe = now >= nextProbeMs
                // Each slot's pings carry the slot's own time, not `now`: a sender that catches up on many slots
                // at once (a starved process) would otherwise fire a driver twice with the same timestamp, and
                // the engine rightly drops the second as a replay.
                let stamp = startMs + tick * slotMs
                for di in spare {
                    let i = Int(di)
                    let id = c.firstDriverID + UInt64(i)
                    let record = mover.fix(i, atMs: stamp).pingRecord(driverID: id, timestampMs: stamp, status: status[i])
                    let sentAt = Self.monoNanos
                    if let ws = sockets {
                        var rb = PingRecordBytes()
                        withUnsafeMutableBytes(of: &rb.bytes) { PingWire.write(record, at: 0, into: $0) }
                        if ws.send(i, record: rb) { report.datagramsSent &+= 1 }
                    } else if batch == 1 {
                        out.withUnsafeMutableBytes { d in
                            PingWire.writeHeader(flags: 0, recordCount: 1, signerID: id, into: d)
                            PingWire.write(record, at: PingWire.headerBytes, into: d)
                            signer.sign(d, key: signer.key(id))
                            report.datagramsSent &+= UInt64(sender.queue(UnsafeRawBufferPointer(d)))
                        }
                    } else {
                        out.withUnsafeMutableBytes { d in
                            PingWire.write(record, at: PingWire.headerBytes + PingWire.recordBytes * inBatch, into: d)
                        }
                        inBatch += 1
                        if inBatch == batch { flushBatch() }
                    }
                    report.pingsSent &+= 1
                    if probe {
                        if batch > 1 { flushBatch() }
                        report.datagramsSent &+= UInt64(sender.flush())   // the probe leaves now, not with the batch
                        if board.offer(Probe(driverID: id, timestampMs: stamp, sentNanos: sentAt)) { nextProbeMs = now + 100 }
                        probe = false
                    }
                    let gap = c.periodSeconds * (1 + c.jitter * (2 * rng.unit() - 1)) * 1000 / Double(slotMs)
                    let next = tick + Int64(max(1, min(Double(wheelSize - 1), gap.rounded())))
                    wheel[Int(next % Int64(wheelSize))].append(di)
                }
                spare.removeAll(keepingCapacity: true)
                flushBatch()
                report.datagramsSent &+= UInt64(sender.flush())
            }
            agents?.step(nowMs: now, status: &status, report: &report)
            foodAgents?.step(nowMs: now, status: &status, report: &report)
            if let ws = sockets, now >= nextDrainMs {
                ws.drain()
                nextDrainMs = now + 200
            }
            if now >= nextReportMs {
                nextReportMs += Int64(c.reportEverySeconds * 1000)
                let accepted = Self.acceptedPings(http, transport: label).map { $0 - (baseline ?? 0) }
                let lat = board.histogram()
                let lossText = accepted.map { String(format: "%.2f%%", 100 * max(0, 1 - Double($0) / Double(max(1, report.pingsSent)))) } ?? "?"
                progress(String(format: "t=%.0fs sent=%llu accepted=%@ loss=%@ latency p50=%.2fms p99=%.2fms orders created=%d assigned=%d delivered=%d pickup eta mean=%.0fs p95=%.0fs wait mean=%.0fs",
                                Double(now - startMs) / 1000, report.pingsSent, accepted.map { "\($0)" } ?? "?", lossText,
                                Double(lat.valueAtPercentile(50)) / 1000, Double(lat.valueAtPercentile(99)) / 1000,
                                report.ordersCreated, report.ordersAssigned, report.ordersDelivered,
                                SimReport.mean(report.pickupETAs), SimReport.quantile(report.pickupETAs, 0.95), SimReport.mean(report.waits)))
            }
            let sleepMs = startMs + (tick + 1) * slotMs - Self.wallMs
            if sleepMs > 0 { usleep(UInt32(sleepMs * 1000)) }
        }
        flushBatch()
        board.finish()
        if let foodAgents { report.food = foodAgents.figures }
        // Let the engine drain its socket and flush its counters, then read the final count.
        var accepted = Self.acceptedPings(http, transport: label)
        let deadline = Self.wallMs + 5_000
        while Self.wallMs < deadline {
            usleep(300_000)
            let again = Self.acceptedPings(http, transport: label)
            if let a = again, a - (baseline ?? 0) >= Int64(report.pingsSent) { accepted = again; break }
            if again == accepted && again != nil { break }
            accepted = again
        }
        report.pingsAccepted = UInt64(max(0, (accepted ?? 0) - (baseline ?? 0)))
        report.sendErrors = sender.errors + (sockets?.sendErrors ?? 0)
        if let ws = sockets {
            ws.drain()
            if ws.closed > 0 || ws.errorMessages > 0 {
                progress("warning: \(ws.closed) WebSocket connections closed by the server, \(ws.errorMessages) error messages")
            }
        }
        report.latencyMicros = board.histogram()
        report.latencyProbesLost = board.lost()
        if lateSlots > 0 { progress("warning: the sender fell behind schedule \(lateSlots) times (CPU bound)") }
        return report
    }

    /// `hexfleet_pings_accepted_total{transport="udp"|"ws"}` from the engine's /metrics; nil when unreadable.
    static func acceptedPings(_ http: SimHTTPClient, transport: String = "udp") -> Int64? {
        guard let r = try? http.request("GET", "/metrics"), r.status == 200 else { return nil }
        let prefix = "hexfleet_pings_accepted_total{transport=\"\(transport)\"} "
        for line in r.text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.dropFirst(prefix.count)).map { Int64($0) }
        }
        return 0
    }
}

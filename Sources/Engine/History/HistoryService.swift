import CoreMetrics
import Dispatch
import EventLoop
import FleetIndex
import HTTPServer
import History
import JSON
import Logging
import Prometheus
import Vocabulary

/// The position history: every accepted ping is kept in a loop-side buffer and handed, at least every
/// `flushIntervalMs`, to the history thread, which appends it to the on-disk `PositionLog`; the history, trips and
/// order-track endpoints read it on that same thread, after the writes asked before them, so an answer holds every
/// ping accepted before the request. Owns the log, the buffer and the thread (docs/history.md).
final class HistoryService: EngineService {
    /// Tunables with their defaults; the retention comes from `serve --history-retention-days`.
    struct Settings {
        var retentionMs: Int64 = 7 * 86_400_000
        /// A `kill -9` loses at most this much of the newest pings (they are in the page cache once written).
        var flushIntervalMs: Int64 = 500
        /// A buffer this full is handed over at once, whatever the interval.
        var maxBufferedPoints = 1 << 18
        /// Flushes queued on the history thread beyond this are dropped and counted, so a stalled disk cannot
        /// grow memory without bound.
        var maxQueuedFlushes = 64
    }

    private let log: PositionLog
    private let settings: Settings
    private let thread: WorkQueue
    private let auth: Authenticator
    private let clock: EngineClock
    private let logger: Logger
    /// Asks the orders service for an order's leg; it reads the store off the loop and answers on the loop.
    private let orderLeg: (OrderID, Principal, @escaping (Result<OrderLeg?, APIError>) -> Void) -> Void
    private var buffer: [HistoryPoint] = []
    private var lastFlushMs: Int64 = 0
    private var lastRetentionMs: Int64 = 0
    private var queuedFlushes = 0
    private let pointsWritten: CoreMetrics.Counter
    private let bytesWritten: CoreMetrics.Counter
    private let pointsDropped: CoreMetrics.Counter
    private let writeFailures: [CoreMetrics.Counter]

    /// Opens (or creates) the log in `directory` and listens to ingest's accepted records.
    init(directory: String, settings: Settings = Settings(), ingest: IngestService,
         orderLeg: @escaping (OrderID, Principal, @escaping (Result<OrderLeg?, APIError>) -> Void) -> Void,
         auth: Authenticator, loop: Loop,
         clock: EngineClock, metrics: EngineMetrics, logger: Logger) throws {
        log = try PositionLog(directory: directory)
        self.settings = settings
        thread = try WorkQueue(loop: loop, dedicatedThreads: 1)
        self.orderLeg = orderLeg
        self.auth = auth
        self.clock = clock
        self.logger = logger
        let f = PrometheusMetricsFactory(registry: metrics.registry)
        pointsWritten = CoreMetrics.Counter(label: "hexfleet_history_points_written_total", factory: f)
        bytesWritten = CoreMetrics.Counter(label: "hexfleet_history_bytes_written_total", factory: f)
        pointsDropped = CoreMetrics.Counter(label: "hexfleet_history_points_dropped_total", factory: f)
        writeFailures = ["disk_full", "io"].map {
            CoreMetrics.Counter(label: "hexfleet_history_write_failures_total", dimensions: [("reason", $0)], factory: f)
        }
        buffer.reserveCapacity(4096)
        ingest.onAccepted { [unowned self] accepted, _ in self.record(accepted) }
    }

    /// Appends a window of accepted records to the buffer: a copy of each, nothing else on the ingest path.
    private func record(_ accepted: UnsafeBufferPointer<DriverState>) {
        for s in accepted {
            buffer.append(HistoryPoint(driver: s.id, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7,
                                       speedCmPerSecond: s.speedCmPerSecond, status: s.status))
        }
        if buffer.count >= settings.maxBufferedPoints { flush() }
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/drivers/{id}/history", getHistory)
        routes.add(.get, "/v1/drivers/{id}/trips", getTrips)
        routes.add(.get, "/v1/orders/{id}/track", getOrderTrack)
    }

    func tick(nowMs: Int64) {
        if nowMs - lastFlushMs >= settings.flushIntervalMs { flush() }
        if nowMs - lastRetentionMs >= 60_000 {
            lastRetentionMs = nowMs
            let log = self.log, cutoff = nowMs - settings.retentionMs
            try? thread.run({ log.removeSegments(endingBy: cutoff) }) { [logger] removed in
                if removed > 0 { logger.info("history retention removed old hours", metadata: ["segments": "\(removed)"]) }
            }
        }
    }

    func stop() {
        // The last buffer goes to the thread like any other, and stop waits until the thread has written it (jobs run
        // in order on its one thread, so a marker job after it means it is on disk). Leaving it to the loop's shutdown
        // drain was too late without `--data`: the orders service, stopped next, removes the temporary directory the
        // log lives in, and the write found it gone.
        flush()
        let written = DispatchSemaphore(value: 0)
        do {
            try thread.run({ written.signal() }) { _ in }
            // Bounded: a disk that hangs must not hang the shutdown.
            _ = written.wait(timeout: .now() + .seconds(30))
        } catch {}
    }

    /// Hands the buffer to the history thread.
    private func flush() {
        lastFlushMs = clock.nowMs
        guard !buffer.isEmpty else { return }
        let points = buffer
        buffer.removeAll(keepingCapacity: true)
        guard queuedFlushes < settings.maxQueuedFlushes else {
            pointsDropped.increment(by: Int64(points.count))
            return
        }
        queuedFlushes += 1
        let log = self.log
        do {
            try thread.run(points, { points -> Result<Int, HistoryError> in
                do throws(HistoryError) { return .success(try log.append(points)) } catch { return .failure(error) }
            }) { [unowned self] result in
                queuedFlushes -= 1
                switch result {
                case .success(let bytes):
                    pointsWritten.increment(by: Int64(points.count))
                    bytesWritten.increment(by: Int64(bytes))
                case .failure(let error):
                    pointsDropped.increment(by: Int64(points.count))
                    writeFailures[error.isDiskFull ? 0 : 1].increment()
                    logger.error("history write failed", metadata: ["error": "\(error)", "points": "\(points.count)"])
                }
            }
        } catch {
            queuedFlushes -= 1
            pointsDropped.increment(by: Int64(points.count))
        }
    }

    // MARK: - endpoints

    /// The driver of a `/v1/drivers/{id}/…` route, checked: the driver itself, a dispatcher or an admin.
    private func viewedDriver(_ request: HTTPRequest) throws(APIError) -> DriverID {
        let id = try DriverJSON.id(request)
        let caller = try auth.require(request, [.dispatcher, .driver])
        guard caller.role != .driver || caller.driverID == id else { throw APIError(.forbidden, "a driver sees only its own history") }
        return id
    }

    /// `from_ms`/`to_ms` (defaults: the last hour up to now) with `from ≤ to`.
    private func window(_ request: HTTPRequest) throws(APIError) -> (Int64, Int64) {
        func ms(_ name: String) throws(APIError) -> Int64? {
            guard let text = request.query(name) else { return nil }
            guard let v = Int64(text), v >= 0, v <= 1 << 50 else {
                throw APIError(.invalidParameter, "\(name) must be milliseconds since the epoch")
            }
            return v
        }
        let to = try ms("to_ms") ?? clock.nowMs + 60_000
        let from = try ms("from_ms") ?? to - 3_600_000
        guard from <= to else { throw APIError(.invalidParameter, "from_ms must not be after to_ms") }
        return (from, to)
    }

    /// Runs `read` on the history thread after everything accepted so far is written, then answers its bytes.
    private func answer(_ responder: Responder, _ read: @escaping @Sendable (PositionLog) -> [UInt8]) {
        flush()
        let log = self.log
        do {
            try thread.run({ read(log) }) { body in responder.respond(.json(body)) }
        } catch {
            responder.fail(APIError(.unavailable, "the history thread is not running"))
        }
    }

    /// `GET /v1/drivers/{id}/history?from_ms=&to_ms=&limit=`: the points in time order (limit 1…100,000, default
    /// 10,000); `next_from_ms` continues a cut answer.
    func getHistory(_ request: HTTPRequest, _ responder: Responder) throws {
        let driver = try viewedDriver(request)
        let (from, to) = try window(request)
        let limit: Int
        if let text = request.query("limit") {
            guard let n = Int(text), n >= 1, n <= 100_000 else { throw APIError(.invalidParameter, "limit must be 1…100000") }
            limit = n
        } else {
            limit = 10_000
        }
        answer(responder) { log in
            let points = log.points(of: driver, fromMs: from, toMs: to, limit: limit + 1)
            var w = JSONWriter(capacity: 64 + points.count * 96)
            w.beginObject()
            w.key("driver"); w.number(driver.rawValue)
            w.key("points"); w.beginArray()
            for p in points.prefix(limit) { HistoryJSON.write(&w, p) }
            w.endArray()
            w.key("next_from_ms")
            if points.count > limit { w.number(points[limit].timestampMs) } else { w.null() }
            w.endObject()
            return w.bytes
        }
    }

    /// `GET /v1/drivers/{id}/trips?from_ms=&to_ms=`: the history split into trips and stops (a stop: ≥ 3 min within
    /// 50 m), each with its start and end point, `duration_s` and (trips) `distance_m`.
    func getTrips(_ request: HTTPRequest, _ responder: Responder) throws {
        let driver = try viewedDriver(request)
        let (from, to) = try window(request)
        answer(responder) { log in
            let points = log.points(of: driver, fromMs: from, toMs: to, limit: 1_000_000)
            let (trips, stops) = TripSplitter().split(points)
            var w = JSONWriter(capacity: 256 + (trips.count + stops.count) * 256)
            w.beginObject()
            w.key("driver"); w.number(driver.rawValue)
            w.key("trips"); w.beginArray()
            for t in trips {
                w.beginObject()
                w.key("start"); HistoryJSON.write(&w, t.start)
                w.key("end"); HistoryJSON.write(&w, t.end)
                w.key("distance_m"); w.number(t.distanceMeters)
                w.key("duration_s"); w.number(Double(t.durationMs) / 1000)
                w.key("points"); w.number(t.pointCount)
                w.endObject()
            }
            w.endArray()
            w.key("stops"); w.beginArray()
            for s in stops {
                w.beginObject()
                w.key("start"); HistoryJSON.write(&w, s.start)
                w.key("end"); HistoryJSON.write(&w, s.end)
                w.key("lat"); w.number(s.center.latDegrees)
                w.key("lng"); w.number(s.center.lngDegrees)
                w.key("duration_s"); w.number(Double(s.durationMs) / 1000)
                w.key("points"); w.number(s.pointCount)
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return w.bytes
        }
    }

    /// `GET /v1/orders/{id}/track`: the courier's points from pick-up to drop-off (to now while on board) and the
    /// driven distance; the order's customer, its courier, a dispatcher or an admin.
    func getOrderTrack(_ request: HTTPRequest, _ responder: Responder) throws {
        guard let text = request.parameter("id"), let raw = UInt64(text) else {
            throw APIError(.invalidParameter, "order id must be an unsigned 64-bit integer")
        }
        let order = OrderID(raw)
        orderLeg(order, try auth.principal(request)) { [weak self] result in
            switch result {
            case .success(let leg): self?.answerTrack(order, leg, responder)
            case .failure(let error): responder.fail(error)
            }
        }
    }

    private func answerTrack(_ order: OrderID, _ leg: OrderLeg?, _ responder: Responder) {
        guard let leg else {
            responder.respond(.json { w in
                w.beginObject()
                w.key("order"); w.number(order.rawValue)
                w.key("driver"); w.null()
                w.key("from_ms"); w.null()
                w.key("to_ms"); w.null()
                w.key("distance_m"); w.number(0)
                w.key("points"); w.beginArray(); w.endArray()
                w.endObject()
            })
            return
        }
        let to = leg.endedMs ?? clock.nowMs
        answer(responder) { log in
            let points = log.points(of: leg.courier, fromMs: leg.pickedUpMs, toMs: to, limit: 1_000_000)
            var w = JSONWriter(capacity: 128 + points.count * 96)
            w.beginObject()
            w.key("order"); w.number(order.rawValue)
            w.key("driver"); w.number(leg.courier.rawValue)
            w.key("from_ms"); w.number(leg.pickedUpMs)
            w.key("to_ms")
            if let ended = leg.endedMs { w.number(ended) } else { w.null() }
            w.key("distance_m"); w.number(TripSplitter.distanceMeters(points))
            w.key("points"); w.beginArray()
            for p in points { HistoryJSON.write(&w, p) }
            w.endArray()
            w.endObject()
            return w.bytes
        }
    }
}

/// The one writer of a history point: `{"ts","lat","lng","speed","status"}` (speed in cm/s, as drivers are shown).
enum HistoryJSON {
    static func write(_ w: inout JSONWriter, _ p: HistoryPoint) {
        w.beginObject()
        w.key("ts"); w.number(p.timestampMs)
        w.key("lat"); w.number(Double(p.latE7) / 1e7)
        w.key("lng"); w.number(Double(p.lngE7) / 1e7)
        w.key("speed"); w.number(p.speedCmPerSecond)
        w.key("status"); w.string(p.status.name)
        w.endObject()
    }
}

import EventLoop
import FleetIndex
import HTTPServer

/// `/healthz` and Prometheus `/metrics`, the loop-lag probe, and the per-tick flush of ingest's plain counters
/// into the registry every service's metrics live in. Loop-owned.
final class MetricsService: EngineService {
    let metrics: EngineMetrics
    private let loop: Loop
    private let table: DriverTable
    private let ingest: IngestService
    private var lagProbe: LoopLagProbe?

    init(metrics: EngineMetrics, loop: Loop, table: DriverTable, ingest: IngestService) {
        self.metrics = metrics
        self.loop = loop
        self.table = table
        self.ingest = ingest
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/healthz", healthz)
        routes.add(.get, "/metrics", metricsText)
    }

    func start() throws {
        lagProbe = try loop.startLagProbe(intervalMs: 50)
    }

    func tick(nowMs: Int64) {
        if let lagProbe { metrics.recordLoopLag(nanoseconds: lagProbe.takeMaxLagNs()) }
        metrics.flush(ingest.counters, liveDriverCount: table.count)
    }

    func stop() {
        lagProbe?.stop()
    }

    func healthz(_ request: HTTPRequest, _ responder: Responder) throws {
        responder.respond(.json { w in
            w.beginObject()
            w.key("status"); w.string("ok")
            w.key("drivers"); w.number(table.count)
            w.endObject()
        })
    }

    func metricsText(_ request: HTTPRequest, _ responder: Responder) throws {
        metrics.flush(ingest.counters, liveDriverCount: table.count)
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")],
                                       body: metrics.render()))
    }
}

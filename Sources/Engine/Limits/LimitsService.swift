import CoreMetrics
import EventLoop
import HTTPServer
import Prometheus

/// The abuse limits in one place (docs/limits.md): the per-token rate limiter every route passes through, the
/// HTTP server's limit counters as metrics, and each limit's value as `hexfleet_limit{name=…}`. Loop-owned.
final class LimitsService: EngineService {
    let configuration: LimitsConfiguration
    private let tracking: TrackingConfiguration
    /// Checked by `RouteTable` before each handler; nil when `--rate-limit 0`.
    let rateLimiter: RequestRateLimiter?
    private let loop: Loop
    /// The server, handed over before it listens (`registerWebSockets`), read for its counters.
    private weak var server: HTTPServer?
    private var lastEvictionMs: Int64 = 0
    private var flushed = HTTPServerStatistics()
    private var flushedRateLimited: UInt64 = 0
    /// Where the fences service reports its per-customer limit at merge (docs/limits.md), exported with the rest.
    private var otherLimits: [(name: String, value: Int)] = []

    private let factory: PrometheusMetricsFactory
    private let connectionsRefused: CoreMetrics.Counter
    private let connections: CoreMetrics.Gauge
    private let rateLimited: CoreMetrics.Counter
    private let rateLimitBuckets: CoreMetrics.Gauge
    private let timeouts: CoreMetrics.Counter
    private let oversized: CoreMetrics.Counter
    private let badRequests: CoreMetrics.Counter
    private let wsFloodCloses: CoreMetrics.Counter
    private let wsProtocolErrors: CoreMetrics.Counter

    init(configuration: EngineConfiguration, loop: Loop, registry: PrometheusCollectorRegistry) {
        tracking = configuration.tracking
        let adminToken = configuration.adminToken
        let configuration = configuration.limits
        self.configuration = configuration
        self.loop = loop
        rateLimiter = configuration.rateLimitPerSecond > 0
            ? RequestRateLimiter(ratePerSecond: configuration.rateLimitPerSecond, burst: configuration.burst,
                                 maxBuckets: configuration.maxRateLimitBuckets, adminToken: adminToken)
            : nil
        let f = PrometheusMetricsFactory(registry: registry)
        factory = f
        connectionsRefused = CoreMetrics.Counter(label: "hexfleet_connections_refused_total", factory: f)
        connections = CoreMetrics.Gauge(label: "hexfleet_http_connections", factory: f)
        rateLimited = CoreMetrics.Counter(label: "hexfleet_rate_limited_total", factory: f)
        rateLimitBuckets = CoreMetrics.Gauge(label: "hexfleet_rate_limit_buckets", factory: f)
        timeouts = CoreMetrics.Counter(label: "hexfleet_http_timeouts_total", factory: f)
        oversized = CoreMetrics.Counter(label: "hexfleet_http_oversized_requests_total", factory: f)
        badRequests = CoreMetrics.Counter(label: "hexfleet_http_bad_requests_total", factory: f)
        wsFloodCloses = CoreMetrics.Counter(label: "hexfleet_ws_flood_closes_total", factory: f)
        wsProtocolErrors = CoreMetrics.Counter(label: "hexfleet_ws_protocol_errors_total", factory: f)
    }

    /// Records a limit another service enforces (the fences per customer, at merge), so it shows as
    /// `hexfleet_limit{name=…}` too. Call it before `start`, which exports the values.
    func report(limit name: String, value: Int) {
        otherLimits.append((name, value))
    }

    /// The server's limits come from here; the engine applies them before the server is made.
    func apply(to http: inout HTTPServerConfiguration) {
        http.maxConnections = configuration.maxConnections
        http.headerTimeoutMs = configuration.headerTimeoutMs
        http.maxHeaderBytes = configuration.maxHeaderBytes
        http.maxBodyBytes = configuration.maxBodyBytes
    }

    func registerWebSockets(_ server: HTTPServer) {
        self.server = server
    }

    func start() throws {
        guard let server else { return }
        let c = server.configuration
        var limits: [(String, Int)] = [
            ("max_connections", c.maxConnections),
            ("rate_limit_per_second", configuration.rateLimitPerSecond),
            ("rate_limit_burst", configuration.rateLimitPerSecond > 0 ? configuration.burst : 0),
            ("rate_limit_buckets", configuration.maxRateLimitBuckets),
            ("header_timeout_ms", Int(c.headerTimeoutMs)),
            ("idle_timeout_ms", Int(c.idleTimeoutMs)),
            ("max_header_bytes", c.maxHeaderBytes),
            ("max_body_bytes", c.maxBodyBytes),
            ("max_pipelined_requests", c.maxPipelinedRequests),
            ("max_queued_response_bytes", c.maxQueuedResponseBytes),
            ("ws_max_message_bytes", c.webSocket.maxMessageBytes),
            ("ws_max_queued_bytes", c.webSocket.maxQueuedBytes),
            ("ws_max_fragments_per_message", c.webSocket.maxFragmentsPerMessage),
            ("ws_max_control_frames_per_second", c.webSocket.maxControlFramesPerSecond),
            ("max_live_orders_per_customer", configuration.maxLiveOrdersPerCustomer),
            ("track_max_subscriptions", tracking.maxSubscriptions),
            ("track_max_cells_per_connection", tracking.maxCellsPerConnection),
            ("track_max_cells_per_message", tracking.maxCellsPerSubscription),
            ("track_soft_budget_bytes", tracking.softBudgetBytes),
            ("track_hard_budget_bytes", tracking.hardBudgetBytes),
            ("udp_max_records_per_datagram", PingWire.maxRecords),
        ]
        limits += otherLimits
        for (name, value) in limits {
            CoreMetrics.Gauge(label: "hexfleet_limit", dimensions: [("name", name)], factory: factory).record(value)
        }
    }

    func tick(nowMs: Int64) {
        if let rateLimiter, nowMs - lastEvictionMs >= 2_000 {
            lastEvictionMs = nowMs
            rateLimiter.evictIdle(nowMs: loop.now)
        }
        flush()
    }

    /// Moves the server's and the limiter's counters into the metrics (each tick, and before `/metrics` renders).
    func flush() {
        if let server {
            let s = server.statistics
            Self.add(&flushed.connectionsRefused, s.connectionsRefused, connectionsRefused)
            Self.add(&flushed.timeouts, s.timeouts, timeouts)
            Self.add(&flushed.oversizedRequests, s.oversizedRequests, oversized)
            Self.add(&flushed.badRequests, s.badRequests, badRequests)
            Self.add(&flushed.webSocketFloodCloses, s.webSocketFloodCloses, wsFloodCloses)
            Self.add(&flushed.webSocketProtocolErrors, s.webSocketProtocolErrors, wsProtocolErrors)
            connections.record(server.connectionCount)
        }
        if let rateLimiter {
            Self.add(&flushedRateLimited, rateLimiter.refused, rateLimited)
            rateLimitBuckets.record(rateLimiter.bucketCount)
        }
    }

    private static func add(_ flushed: inout UInt64, _ now: UInt64, _ counter: CoreMetrics.Counter) {
        guard now != flushed else { return }
        counter.increment(by: Int64(clamping: now &- flushed))
        flushed = now
    }
}

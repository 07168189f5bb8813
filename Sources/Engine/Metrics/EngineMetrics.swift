import CoreMetrics
import Prometheus

/// The engine's Prometheus metrics: swift-metrics handles over a per-engine registry (no global bootstrap,
/// so several engines can live in one test process). The loop counts in plain integers; `flush` turns the
/// deltas into metric increments once per tick, so the hot path never touches a metric or builds a label.
final class EngineMetrics {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let accepted: [CoreMetrics.Counter]
    private let udpDropped: [CoreMetrics.Counter]
    private let otherDropped: [CoreMetrics.Counter]
    private let liveDrivers: CoreMetrics.Gauge
    private let lastDatagram: CoreMetrics.Gauge
    private let loopLag: CoreMetrics.Timer
    private let requestDuration: CoreMetrics.Timer
    let wsEvictions: CoreMetrics.Counter
    let wsConnections: CoreMetrics.Gauge
    private var flushedAccepted = [UInt64](repeating: 0, count: PingTransport.allCases.count)
    private var flushedDropped = [UInt64](repeating: 0, count: DropReason.allCases.count)
    private var flushedOther = [UInt64](repeating: 0, count: DropReason.allCases.count)

    init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.durationHistogramBuckets = ["hexfleet_loop_lag_seconds": [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1].map { Duration.seconds($0) }]
        factory = f
        accepted = PingTransport.allCases.map {
            CoreMetrics.Counter(label: "hexfleet_pings_accepted_total", dimensions: [("transport", $0.label)], factory: f)
        }
        udpDropped = DropReason.allCases.map {
            CoreMetrics.Counter(label: "hexfleet_udp_dropped_total", dimensions: [("reason", $0.label)], factory: f)
        }
        otherDropped = DropReason.allCases.map {
            CoreMetrics.Counter(label: "hexfleet_pings_dropped_total", dimensions: [("reason", $0.label)], factory: f)
        }
        liveDrivers = CoreMetrics.Gauge(label: "hexfleet_live_drivers", factory: f)
        // When the feed last spoke: alert on staleness; the loopback benchmark times ingest with it.
        lastDatagram = CoreMetrics.Gauge(label: "hexfleet_udp_last_datagram_timestamp_seconds", factory: f)
        loopLag = CoreMetrics.Timer(label: "hexfleet_loop_lag_seconds", factory: f)
        requestDuration = CoreMetrics.Timer(label: "hexfleet_http_request_duration_seconds", factory: f)
        wsEvictions = CoreMetrics.Counter(label: "hexfleet_ws_evictions_total", factory: f)
        wsConnections = CoreMetrics.Gauge(label: "hexfleet_ws_connections", factory: f)
    }

    /// Moves counter deltas into the metrics (once per tick, on the loop).
    func flush(_ c: IngestCounters, liveDriverCount: Int) {
        for i in c.accepted.indices where c.accepted[i] != flushedAccepted[i] {
            accepted[i].increment(by: Int64(c.accepted[i] &- flushedAccepted[i]))
            flushedAccepted[i] = c.accepted[i]
        }
        for i in c.dropped.indices where c.dropped[i] != flushedDropped[i] {
            udpDropped[i].increment(by: Int64(c.dropped[i] &- flushedDropped[i]))
            flushedDropped[i] = c.dropped[i]
        }
        for i in c.droppedOther.indices where c.droppedOther[i] != flushedOther[i] {
            otherDropped[i].increment(by: Int64(c.droppedOther[i] &- flushedOther[i]))
            flushedOther[i] = c.droppedOther[i]
        }
        liveDrivers.record(liveDriverCount)
        if c.lastDatagramMs != flushedLastDatagramMs {
            lastDatagram.record(Double(c.lastDatagramMs) / 1000)
            flushedLastDatagramMs = c.lastDatagramMs
        }
    }
    private var flushedLastDatagramMs: Int64 = 0

    func recordLoopLag(nanoseconds: UInt64) { loopLag.recordNanoseconds(Int64(clamping: nanoseconds)) }
    func recordRequest(nanoseconds: UInt64) { requestDuration.recordNanoseconds(Int64(clamping: nanoseconds)) }

    /// The Prometheus text exposition.
    func render() -> [UInt8] {
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

import CoreMetrics
import Logging
import Marketplace
import Prometheus
import Storage

/// With `--nats`: publishes every order event, through the store's outbox, to the JetStream stream
/// `HEXFLEET_EVENTS` (docs/events.md). The work runs on the relay's own thread; the loop only moves its counters
/// into the metrics once per tick. With webhooks configured, they take order events from the stream (docs/events.md).
final class EventRelayService: EngineService {
    private let relay: EventRelay
    private let publishedTotal: CoreMetrics.Counter
    private let duplicatesTotal: CoreMetrics.Counter
    private let errorsTotal: CoreMetrics.Counter
    private let pendingGauge: CoreMetrics.Gauge
    private let connectedGauge: CoreMetrics.Gauge
    private var flushedPublished: UInt64 = 0
    private var flushedDuplicates: UInt64 = 0
    private var flushedErrors: UInt64 = 0

    private let webhookConsumer: WebhookStreamConsumer?

    /// - Parameter webhooks: the webhook sink and its endpoints, when webhooks are configured: order events then reach
    ///   them through the stream's durable consumer (`WebhookStreamConsumer`).
    init(settings: EventRelay.Settings, store: any OutboxStore, webhooks: (sink: WebhookSink, endpoints: [String])?,
         registry: PrometheusCollectorRegistry, logger: Logger) {
        relay = EventRelay(settings: settings, store: store, logger: logger)
        webhookConsumer = webhooks.map {
            WebhookStreamConsumer(settings: settings, endpoints: $0.endpoints, sink: $0.sink, logger: logger)
        }
        let f = PrometheusMetricsFactory(registry: registry)
        publishedTotal = CoreMetrics.Counter(label: "hexfleet_events_published_total", factory: f)
        duplicatesTotal = CoreMetrics.Counter(label: "hexfleet_events_duplicates_total", factory: f)
        errorsTotal = CoreMetrics.Counter(label: "hexfleet_events_publish_errors_total", factory: f)
        pendingGauge = CoreMetrics.Gauge(label: "hexfleet_events_outbox_pending", factory: f)
        connectedGauge = CoreMetrics.Gauge(label: "hexfleet_events_relay_connected", factory: f)
    }

    func start() throws {
        relay.start()
        webhookConsumer?.start()
    }

    func tick(nowMs: Int64) {
        let published = relay.published.load(ordering: .relaxed)
        if published != flushedPublished { publishedTotal.increment(by: Int64(published &- flushedPublished)); flushedPublished = published }
        let duplicates = relay.duplicates.load(ordering: .relaxed)
        if duplicates != flushedDuplicates { duplicatesTotal.increment(by: Int64(duplicates &- flushedDuplicates)); flushedDuplicates = duplicates }
        let errors = relay.errors.load(ordering: .relaxed)
        if errors != flushedErrors { errorsTotal.increment(by: Int64(errors &- flushedErrors)); flushedErrors = errors }
        pendingGauge.record(relay.pending.load(ordering: .relaxed))
        connectedGauge.record(relay.connected.load(ordering: .relaxed) ? 1 : 0)
    }

    func stop() {
        webhookConsumer?.stop()
        relay.stop()
    }
}

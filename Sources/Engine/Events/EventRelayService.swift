import CoreMetrics
import Dispatcher
import Logging
import Marketplace
import Prometheus
import Storage

/// With `--nats`: publishes every order event, through the store's outbox, to the JetStream stream
/// `HEXFLEET_EVENTS` (docs/events.md), and offer and fence events, which are not stored, from memory. The work runs
/// on the relay's own thread; the loop only hands it offer and fence events and moves its counters into the metrics
/// once per tick. With webhooks configured, they take order events from the stream (docs/events.md).
final class EventRelayService: EngineService {
    private let relay: EventRelay
    private let publishedTotal: CoreMetrics.Counter
    private let duplicatesTotal: CoreMetrics.Counter
    private let errorsTotal: CoreMetrics.Counter
    private let pendingGauge: CoreMetrics.Gauge
    private let connectedGauge: CoreMetrics.Gauge
    private let memoryPublishedTotal: CoreMetrics.Counter
    private let memoryDroppedTotal: CoreMetrics.Counter
    private let memoryPendingGauge: CoreMetrics.Gauge
    private var flushedMemoryPublished: UInt64 = 0
    private var flushedMemoryDropped: UInt64 = 0
    /// Offer and fence events as stream messages; nil when the store has no event id prefix (no outbox).
    private var streamEvents: StreamEvents?
    private var flushedPublished: UInt64 = 0
    private var flushedDuplicates: UInt64 = 0
    private var flushedErrors: UInt64 = 0

    private let webhookConsumer: WebhookStreamConsumer?

    /// - Parameter webhooks: the webhook sink and its endpoints, when webhooks are configured: order events then reach
    ///   them through the stream's durable consumer (`WebhookStreamConsumer`).
    init(settings: EventRelay.Settings, store: any OutboxStore, webhooks: (sink: WebhookSink, endpoints: [String])?,
         registry: PrometheusCollectorRegistry, logger: Logger) {
        relay = EventRelay(settings: settings, store: store, logger: logger)
        streamEvents = store.outboxPrefix.map { StreamEvents(prefix: $0) }
        webhookConsumer = webhooks.map {
            WebhookStreamConsumer(settings: settings, endpoints: $0.endpoints, sink: $0.sink, logger: logger)
        }
        let f = PrometheusMetricsFactory(registry: registry)
        publishedTotal = CoreMetrics.Counter(label: "hexfleet_events_published_total", factory: f)
        duplicatesTotal = CoreMetrics.Counter(label: "hexfleet_events_duplicates_total", factory: f)
        errorsTotal = CoreMetrics.Counter(label: "hexfleet_events_publish_errors_total", factory: f)
        pendingGauge = CoreMetrics.Gauge(label: "hexfleet_events_outbox_pending", factory: f)
        connectedGauge = CoreMetrics.Gauge(label: "hexfleet_events_relay_connected", factory: f)
        memoryPublishedTotal = CoreMetrics.Counter(label: "hexfleet_events_memory_published_total", factory: f)
        memoryDroppedTotal = CoreMetrics.Counter(label: "hexfleet_events_memory_dropped_total", factory: f)
        memoryPendingGauge = CoreMetrics.Gauge(label: "hexfleet_events_memory_pending", factory: f)
    }

    /// An offer changed (dispatch's listener): its event goes to `hexfleet.offer.<event>`.
    func offerEvent(_ event: OfferEvent) {
        if let message = streamEvents?.message(for: event) { relay.enqueue(message) }
    }

    /// A fence event (the fence service's listener): transitions go to `hexfleet.fence.<event>`.
    func fenceEvent(_ event: FenceEvent) {
        if let message = streamEvents?.message(for: event) { relay.enqueue(message) }
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
        let memoryPublished = relay.transientPublished.load(ordering: .relaxed)
        if memoryPublished != flushedMemoryPublished {
            memoryPublishedTotal.increment(by: Int64(memoryPublished &- flushedMemoryPublished)); flushedMemoryPublished = memoryPublished
        }
        let memoryDropped = relay.transientDropped.load(ordering: .relaxed)
        if memoryDropped != flushedMemoryDropped {
            memoryDroppedTotal.increment(by: Int64(memoryDropped &- flushedMemoryDropped)); flushedMemoryDropped = memoryDropped
        }
        memoryPendingGauge.record(relay.transientPending)
    }

    func stop() {
        webhookConsumer?.stop()
        relay.stop()
    }
}

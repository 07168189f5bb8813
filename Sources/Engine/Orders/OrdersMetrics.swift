import CoreMetrics
import Marketplace
import Prometheus
import Storage
import Vocabulary

/// The orders module's Prometheus series, on the engine's registry: the loop counts in plain integers and
/// `flush` (once per tick) moves the deltas into the metrics, like `EngineMetrics`.
final class OrdersMetrics {
    private let created: CoreMetrics.Counter
    private let replayed: CoreMetrics.Counter
    private let transitions: [OrderStatus: CoreMetrics.Counter]
    private let failures: CoreMetrics.Counter
    private let storeTransactions: CoreMetrics.Gauge
    private let storeOperations: CoreMetrics.Gauge
    private let storeLargestBatch: CoreMetrics.Gauge
    private let storeFailedTransactions: CoreMetrics.Gauge
    private let storeQueued: CoreMetrics.Gauge
    private let notificationsPublished: CoreMetrics.Gauge
    private let notificationsDropped: CoreMetrics.Gauge
    private let webhookDelivered: CoreMetrics.Gauge
    private let webhookFailures: CoreMetrics.Gauge
    private let webhookDead: CoreMetrics.Gauge
    private let webhookPending: CoreMetrics.Gauge
    private let liveOrders: CoreMetrics.Gauge
    private let surgeZones: CoreMetrics.Gauge
    private let limited: CoreMetrics.Counter
    private let storeErrors: [String: CoreMetrics.Counter]

    /// Plain counters the loop bumps.
    var pendingCreated: Int64 = 0
    var pendingReplayed: Int64 = 0
    var pendingFailures: Int64 = 0
    var pendingTransitions: [OrderStatus: Int64] = [:]
    /// `POST /v1/orders` refused for the customer's live-order limit.
    var pendingLimited: Int64 = 0
    /// Store operations failed, by storage code (`storage_full`, `storage_failure`, `storage_closed`).
    var pendingStoreErrors: [String: Int64] = [:]

    /// The storage codes `hexfleet_store_errors_total` is labelled with.
    static let storeErrorCodes = ["storage_full", "storage_failure", "storage_closed"]

    init(registry: PrometheusCollectorRegistry) {
        let f = PrometheusMetricsFactory(registry: registry)
        created = CoreMetrics.Counter(label: "hexfleet_orders_created_total", factory: f)
        replayed = CoreMetrics.Counter(label: "hexfleet_orders_idempotent_replays_total", factory: f)
        failures = CoreMetrics.Counter(label: "hexfleet_orders_request_failures_total", factory: f)
        var t: [OrderStatus: CoreMetrics.Counter] = [:]
        for s in OrderStatus.allCases {
            t[s] = CoreMetrics.Counter(label: "hexfleet_order_transitions_total", dimensions: [("to", s.rawValue)], factory: f)
        }
        transitions = t
        storeTransactions = CoreMetrics.Gauge(label: "hexfleet_store_transactions", factory: f)
        storeOperations = CoreMetrics.Gauge(label: "hexfleet_store_operations", factory: f)
        storeLargestBatch = CoreMetrics.Gauge(label: "hexfleet_store_largest_batch", factory: f)
        storeFailedTransactions = CoreMetrics.Gauge(label: "hexfleet_store_failed_transactions", factory: f)
        storeQueued = CoreMetrics.Gauge(label: "hexfleet_store_queued_operations", factory: f)
        notificationsPublished = CoreMetrics.Gauge(label: "hexfleet_notifications_published", factory: f)
        notificationsDropped = CoreMetrics.Gauge(label: "hexfleet_notifications_dropped", factory: f)
        webhookDelivered = CoreMetrics.Gauge(label: "hexfleet_webhooks_delivered", factory: f)
        webhookFailures = CoreMetrics.Gauge(label: "hexfleet_webhooks_failed_attempts", factory: f)
        webhookDead = CoreMetrics.Gauge(label: "hexfleet_webhooks_dead_letters", factory: f)
        webhookPending = CoreMetrics.Gauge(label: "hexfleet_webhooks_pending", factory: f)
        liveOrders = CoreMetrics.Gauge(label: "hexfleet_live_orders", factory: f)
        surgeZones = CoreMetrics.Gauge(label: "hexfleet_surge_zones", factory: f)
        limited = CoreMetrics.Counter(label: "hexfleet_orders_limited_total", factory: f)
        var e: [String: CoreMetrics.Counter] = [:]
        for code in Self.storeErrorCodes {
            e[code] = CoreMetrics.Counter(label: "hexfleet_store_errors_total", dimensions: [("code", code)], factory: f)
        }
        storeErrors = e
    }

    /// Moves the loop's counters into the metrics and samples the modules' own counters.
    func flush(store: WriteStats, notifier: (published: UInt64, dropped: UInt64), webhooks: WebhookCounters?,
               liveOrderCount: Int, surgeZoneCount: Int) {
        if pendingCreated > 0 { created.increment(by: pendingCreated); pendingCreated = 0 }
        if pendingReplayed > 0 { replayed.increment(by: pendingReplayed); pendingReplayed = 0 }
        if pendingFailures > 0 { failures.increment(by: pendingFailures); pendingFailures = 0 }
        for (s, n) in pendingTransitions where n > 0 { transitions[s]?.increment(by: n) }
        pendingTransitions.removeAll(keepingCapacity: true)
        if pendingLimited > 0 { limited.increment(by: pendingLimited); pendingLimited = 0 }
        for (code, n) in pendingStoreErrors where n > 0 { storeErrors[code]?.increment(by: n) }
        pendingStoreErrors.removeAll(keepingCapacity: true)
        storeTransactions.record(Int64(clamping: store.transactions))
        storeOperations.record(Int64(clamping: store.operations))
        storeLargestBatch.record(Int64(clamping: store.largestBatch))
        storeFailedTransactions.record(Int64(clamping: store.failedTransactions))
        storeQueued.record(Int64(clamping: store.queued))
        notificationsPublished.record(Int64(clamping: notifier.published))
        notificationsDropped.record(Int64(clamping: notifier.dropped))
        if let w = webhooks {
            webhookDelivered.record(Int64(clamping: w.delivered))
            webhookFailures.record(Int64(clamping: w.failures))
            webhookDead.record(Int64(clamping: w.deadLetters))
            webhookPending.record(Int64(clamping: w.pending))
        }
        liveOrders.record(liveOrderCount)
        surgeZones.record(surgeZoneCount)
    }
}

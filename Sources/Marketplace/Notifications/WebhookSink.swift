import Foundation
import Storage
import Synchronization

/// Sends notifications to HTTP endpoints, signed, retried with backoff, dead-lettered after N attempts.
///
/// Each notification is first written durably (`webhook_deliveries`, state `pending`) and then
/// attempted on the sink's own thread through the injected `WebhookTransport`. The body is the
/// notification's JSON payload; headers: `Content-Type: application/json`,
/// `X-Hexfleet-Signature: sha256=<hex HMAC-SHA256(secret, body)>`, `X-Hexfleet-Event`, `X-Hexfleet-Delivery`.
///
/// Retry: attempt *k* (1-based) failing schedules attempt *k*+1 after a delay drawn uniformly from
/// [0, min(maxDelay, baseDelay · 2^(k−1))] ("full jitter"); after `maxAttempts` failures the delivery
/// is marked `dead` and copied to `webhook_dead_letters`. Deliveries still pending at start
/// (after a crash) are reloaded by `start()` and attempted again.
public final class WebhookSink: NotificationSink {
    /// Endpoints, filters and retry constants.
    public struct Configuration: Sendable {
        /// Target URLs; every matching notification goes to each.
        public var endpoints: [String]
        /// Event names sent (default: all).
        public var events: Set<String> = Set(NotificationEvent.allNames)
        /// Attempts before a delivery is dead-lettered (≥ 1; default 6).
        public var maxAttempts: Int = 6
        /// Backoff base, ms (default 500).
        public var baseDelayMs: Int64 = 500
        /// Backoff ceiling, ms (default 60 s).
        public var maxDelayMs: Int64 = 60_000
        /// Per-attempt timeout, ms (default 5 s).
        public var timeoutMs: Int = 5_000

        /// A configuration for these endpoints with default retry constants.
        public init(endpoints: [String]) { self.endpoints = endpoints }
    }

    private struct Job: Sendable {
        var id: WebhookDeliveryID
        var endpoint: String
        var event: String
        var body: [UInt8]
        var attempts: Int
        var dueAtMs: Int64
    }

    private struct State {
        var jobs: [Job] = []
        var stopped = false
        var started = false
    }

    public let name = "webhook"
    private let config: Configuration
    private let store: any Store
    private let transport: any WebhookTransport
    private let signer: WebhookSigner
    private let nowMs: @Sendable () -> Int64
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let attempts = Atomic<UInt64>(0)
    private let delivered = Atomic<UInt64>(0)
    private let failures = Atomic<UInt64>(0)
    private let dead = Atomic<UInt64>(0)
    private let enqueueFailures = Atomic<UInt64>(0)

    /// A sink; call `start()` to reload pending deliveries and start its thread.
    /// - Parameter signer: `WebhookSigner.hmacSHA256(secret:)` (swift-crypto's HMAC-SHA256), or any other signer.
    public init(configuration: Configuration, store: any Store, transport: any WebhookTransport, signer: WebhookSigner,
                nowMs: @escaping @Sendable () -> Int64 = StoreConfiguration.systemNowMs) {
        var c = configuration
        c.maxAttempts = max(1, c.maxAttempts)
        c.baseDelayMs = max(0, c.baseDelayMs)
        c.maxDelayMs = max(c.baseDelayMs, c.maxDelayMs)
        self.config = c
        self.store = store
        self.transport = transport
        self.signer = signer
        self.nowMs = nowMs
    }

    /// Reloads deliveries left pending in the store (or takes `pending`, already read from it: `StartupSnapshot`)
    /// and starts the delivery thread. Idempotent.
    /// - Throws: the store's error when pending deliveries cannot be read.
    public func start(pending preloaded: [WebhookDeliveryRecord]? = nil) throws(MarketplaceError) {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let pending: [WebhookDeliveryRecord]
        if let preloaded {
            pending = preloaded
        } else {
            do { pending = try store.pendingWebhooks() } catch { throw MarketplaceError(error) }
        }
        let now = nowMs()
        state.withLock { s in
            for p in pending {
                s.jobs.append(Job(id: p.id, endpoint: p.endpoint, event: p.event, body: p.body, attempts: p.attempts,
                                  dueAtMs: now))
            }
        }
        let thread = Thread { [self] in run() }
        thread.name = "hexfleet.webhooks"
        thread.start()
    }

    /// Stops the delivery thread (pending deliveries stay in the store for the next start).
    public func stop() {
        let running = state.withLock { s -> Bool in
            let r = s.started && !s.stopped
            s.stopped = true
            return r
        }
        guard running else { return }
        wakeup.signal()
        finished.wait()
    }

    /// Counters so far.
    public var counters: WebhookCounters {
        WebhookCounters(attempts: attempts.load(ordering: .relaxed), delivered: delivered.load(ordering: .relaxed),
                        failures: failures.load(ordering: .relaxed), deadLetters: dead.load(ordering: .relaxed),
                        enqueueFailures: enqueueFailures.load(ordering: .relaxed),
                        pending: UInt64(state.withLock { $0.jobs.count }))
    }

    public func deliver(_ notification: OutboundNotification) {
        guard config.events.contains(notification.event) else { return }
        for endpoint in config.endpoints { post(to: endpoint, event: notification.event, body: notification.payload) }
    }

    /// Sends one body to one endpoint (a fence's own webhook), durably, signed and retried like every delivery.
    /// Callable from any thread; the store write happens on its writer thread.
    /// - Parameter enqueued: told, on the store's writer thread, whether the delivery was written durably.
    public func post(to endpoint: String, event: String, body: [UInt8],
                     enqueued: (@Sendable (Bool) -> Void)? = nil) {
        store.enqueueWebhook(endpoint: endpoint, event: event, body: body) { [self] result in
            guard case .success(let id) = result else {
                enqueueFailures.add(1, ordering: .relaxed)
                enqueued?(false)
                return
            }
            defer { enqueued?(true) }
            let job = Job(id: id, endpoint: endpoint, event: event, body: body, attempts: 0, dueAtMs: nowMs())
            state.withLock { $0.jobs.append(job) }
            wakeup.signal()
        }
    }

    /// The full-jitter delay before attempt `failedAttempts + 1`, ms.
    func backoffMs(afterFailedAttempts k: Int) -> Int64 {
        let exponent = min(max(k - 1, 0), 40)
        let ceiling = min(config.maxDelayMs, config.baseDelayMs.multipliedReportingOverflow(by: 1 << Int64(exponent)).overflow
                          ? config.maxDelayMs : config.baseDelayMs << Int64(exponent))
        return ceiling > 0 ? Int64.random(in: 0...ceiling) : 0
    }

    private func run() {
        while true {
            let now = nowMs()
            let next = state.withLock { s -> (job: Job?, waitMs: Int64?, stop: Bool) in
                if s.stopped { return (nil, nil, true) }
                guard let i = s.jobs.indices.min(by: { s.jobs[$0].dueAtMs < s.jobs[$1].dueAtMs }) else {
                    return (nil, nil, false)
                }
                if s.jobs[i].dueAtMs <= now { return (s.jobs.remove(at: i), nil, false) }
                return (nil, s.jobs[i].dueAtMs - now, false)
            }
            if next.stop { break }
            guard let job = next.job else {
                if let ms = next.waitMs {
                    _ = wakeup.wait(timeout: .now() + .milliseconds(Int(min(ms, 60_000))))
                } else {
                    wakeup.wait()
                }
                continue
            }
            attempt(job)
        }
        finished.signal()
    }

    private func attempt(_ job: Job) {
        var job = job
        let request = WebhookRequest(url: job.endpoint, headers: [
            "Content-Type": "application/json",
            "X-Hexfleet-Signature": signer.signature(for: job.body),
            "X-Hexfleet-Event": job.event,
            "X-Hexfleet-Delivery": "\(job.id)",
        ], body: job.body, timeoutMs: config.timeoutMs)
        let result = transport.post(request)
        attempts.add(1, ordering: .relaxed)
        job.attempts += 1
        let error: String
        switch result {
        case .status(let code) where (200...299).contains(code):
            // Recorded before counting, so whoever sees the counter move and then flushes the store sees the row.
            store.recordWebhookAttempt(job.id, attempts: job.attempts, outcome: .delivered, error: nil) { _ in }
            delivered.add(1, ordering: .relaxed)
            return
        case .status(let code): error = "HTTP \(code)"
        case .failed(let why): error = why
        }
        if job.attempts >= config.maxAttempts {
            failures.add(1, ordering: .relaxed)
            store.recordWebhookAttempt(job.id, attempts: job.attempts, outcome: .dead, error: error) { [self] r in
                if case .success = r { dead.add(1, ordering: .relaxed) }
            }
            return
        }
        store.recordWebhookAttempt(job.id, attempts: job.attempts, outcome: .pending, error: error) { _ in }
        failures.add(1, ordering: .relaxed)
        job.dueAtMs = nowMs() + backoffMs(afterFailedAttempts: job.attempts)
        state.withLock { $0.jobs.append(job) }
    }
}

import Foundation
import Logging
import Storage
import Synchronization

/// The outbox relay's thread: reads batches of the store's outbox, publishes them to JetStream and deletes each row
/// only once the stream acknowledged it (docs/events.md). Never on the loop: the reads, the publishes and the wait
/// for the deletes' commit all block. Retries with backoff while NATS or the stream is unavailable; a row whose
/// publish failed stays and is published again, and the stream's duplicate window drops a second copy by message id.
/// Events that are not in the store (offers, fences) wait in memory (`enqueue`) and go out the same way: at least
/// once while the engine runs, lost if it dies before their acknowledgment.
final class EventRelay: Sendable {
    /// Where and how to publish.
    struct Settings: Sendable {
        /// NATS server URLs (`nats://host:port`).
        var servers: [String]
        /// The stream, created at start when missing.
        var stream = "HEXFLEET_EVENTS"
        /// The stream's subjects (the ping forwarding of shards, `hexfleet.ping.>`, stays out of it).
        var subjects = ["hexfleet.order.>", "hexfleet.offer.>", "hexfleet.fence.>"]
        /// Rows read and published at a time.
        var batchSize = 256
        /// How long an empty outbox is left before it is read again.
        var idlePollMs = 25
        /// How long one publish waits for its acknowledgment.
        var ackWaitMs: Int64 = 1_000
        /// After a failure the relay publishes one message at a time, each waiting this long, until one is
        /// acknowledged: a stream without a leader refuses at once, and the first acknowledgment (a new leader)
        /// resumes full batches without a batch's wait behind it.
        var probeWaitMs: Int64 = 500
        /// Events held in memory for the stream (offers, fences) at most; beyond it the oldest are dropped.
        var maxTransientEvents = 100_000
        /// The stream's duplicate window: a message id seen within it is stored once.
        var duplicateWindowMs: Int64 = 120_000
        /// Backoff after a failure: doubles from `firstBackoffMs` up to this. Short: a refused publish costs one
        /// round trip, and every millisecond here is added to the time publishing resumes after a failover.
        var maxBackoffMs = 100
        var firstBackoffMs = 25
        /// Copies the stream keeps: one per server given, at most three.
        var replicas: Int { min(3, max(1, servers.count)) }
    }

    private struct State {
        var started = false
        var stopped = false
    }

    let settings: Settings
    private let store: any OutboxStore
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    /// Offer and fence events waiting for the stream, oldest first.
    private let transient = Mutex<[JetStreamPublisher.Message]>([])
    private let finished = DispatchSemaphore(value: 0)
    /// Rows acknowledged by the stream and deleted.
    let published = Atomic<UInt64>(0)
    /// Of those, the ones the stream already held (a retry after a lost acknowledgment).
    let duplicates = Atomic<UInt64>(0)
    /// Failed connects, stream creations, reads, publishes and deletes.
    let errors = Atomic<UInt64>(0)
    /// Rows waiting, as last seen.
    let pending = Atomic<Int>(0)
    /// Whether the last attempt reached the stream.
    let connected = Atomic<Bool>(false)
    /// Offer and fence events acknowledged by the stream.
    let transientPublished = Atomic<UInt64>(0)
    /// Offer and fence events dropped because `maxTransientEvents` were already waiting.
    let transientDropped = Atomic<UInt64>(0)

    init(settings: Settings, store: any OutboxStore, logger: Logger) {
        self.settings = settings
        self.store = store
        self.logger = logger
    }

    /// Starts the thread. Idempotent.
    func start() {
        let first = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let thread = Thread { [self] in run() }
        thread.name = "hexfleet.events.relay"
        thread.start()
    }

    /// Stops the thread (waits for the batch in flight); unpublished rows stay for the next start.
    func stop() {
        let running = state.withLock { s -> Bool in
            let r = s.started && !s.stopped
            s.stopped = true
            return r
        }
        guard running else { return }
        wakeup.signal()
        finished.wait()
    }

    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Queues an event that is not in the store's outbox (an offer's or a fence's) for the stream; any thread.
    /// Its message id must be the same on every attempt, so the stream stores it once.
    func enqueue(_ message: JetStreamPublisher.Message) {
        let dropped = transient.withLock { queue -> Bool in
            queue.append(message)
            guard queue.count > settings.maxTransientEvents else { return false }
            queue.removeFirst(queue.count - settings.maxTransientEvents)
            return true
        }
        if dropped { transientDropped.add(1, ordering: .relaxed) }
    }

    /// Events queued in memory and not yet acknowledged.
    var transientPending: Int { transient.withLock { $0.count } }

    private func run() {
        var publisher: JetStreamPublisher?
        var streamReady = false
        var backoffMs = 0
        var failing = false
        var lastCountAt = DispatchTime(uptimeNanoseconds: 0)
        func failed(_ why: String) {
            errors.add(1, ordering: .relaxed)
            connected.store(false, ordering: .relaxed)
            if !failing { logger.warning("event relay: \(why); retrying with backoff") }
            failing = true
            backoffMs = backoffMs == 0 ? settings.firstBackoffMs : min(backoffMs * 2, settings.maxBackoffMs)
            _ = wakeup.wait(timeout: .now() + .milliseconds(backoffMs))
        }
        while !stopped {
            do throws(EventRelayError) {
                if publisher == nil {
                    publisher = try JetStreamPublisher(servers: settings.servers, name: "hexfleet-event-relay",
                                                       ackWaitMs: settings.ackWaitMs,
                                                       onReconnect: { [wakeup] in wakeup.signal() })
                    streamReady = false
                }
                guard let nats = publisher else { continue }
                if !streamReady {
                    try nats.ensureStream(settings.stream, subjects: settings.subjects, replicas: settings.replicas,
                                          duplicateWindowMs: settings.duplicateWindowMs)
                    streamReady = true
                    logger.info("event relay: publishing to stream", metadata: [
                        "stream": "\(settings.stream)", "replicas": "\(settings.replicas)"])
                }
                // While failing, one message at a time (a probe) so that the first acknowledgment after a failover
                // is not queued behind a whole batch's timeouts.
                let limit = failing ? 1 : settings.batchSize
                let batch: [OutboxEntry]
                do { batch = try store.pendingOutbox(afterID: 0, limit: limit) } catch {
                    throw EventRelayError("reading the outbox: \(error)")
                }
                if batch.count < limit {
                    pending.store(batch.count, ordering: .relaxed)
                } else if DispatchTime.now().uptimeNanoseconds > lastCountAt.uptimeNanoseconds + 500_000_000 {
                    // A full batch: count the backlog now and then (a scan), not on every batch.
                    if let n = try? store.outboxCount() { pending.store(n, ordering: .relaxed) }
                    lastCountAt = .now()
                }
                let memory = transient.withLock { Array($0.prefix(limit)) }
                if batch.isEmpty && memory.isEmpty {
                    connected.store(true, ordering: .relaxed)
                    _ = wakeup.wait(timeout: .now() + .milliseconds(settings.idlePollMs))
                    continue
                }
                let messages = batch.map { JetStreamPublisher.Message(subject: $0.subject, messageID: $0.messageID, payload: $0.payload) }
                    + memory
                let result = nats.publish(messages, ackWaitMs: failing ? settings.probeWaitMs : nil)
                let rows = result.acknowledged.filter { $0 < batch.count }.map { batch[$0].id }
                let acknowledgedMemory = Set(result.acknowledged.filter { $0 >= batch.count }.map { messages[$0].messageID })
                if !acknowledgedMemory.isEmpty {
                    transient.withLock { queue in queue.removeAll { acknowledgedMemory.contains($0.messageID) } }
                    transientPublished.add(UInt64(acknowledgedMemory.count), ordering: .relaxed)
                }
                if !rows.isEmpty { try delete(rows) }
                published.add(UInt64(rows.count), ordering: .relaxed)
                duplicates.add(UInt64(result.duplicates), ordering: .relaxed)
                if result.failed > 0 {
                    throw EventRelayError("\(result.failed) of \(messages.count) events unacknowledged: \(result.firstError ?? "?")")
                }
                connected.store(true, ordering: .relaxed)
                if failing { logger.info("event relay: publishing again") }
                failing = false
                backoffMs = 0
            } catch {
                // A failed connect or stream creation starts over; a failed publish keeps the connection, which
                // reconnects by itself (libnats), and retries the rows left.
                if publisher != nil && !streamReady { publisher?.close(); publisher = nil }
                failed(error.description)
            }
        }
        publisher?.close()
        finished.signal()
    }

    /// Deletes published rows and waits for the commit, so the next read does not see them again.
    private func delete(_ ids: [Int64]) throws(EventRelayError) {
        let outcome = Mutex<Result<Void, StorageError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.deleteOutbox(ids: ids) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        if case .failure(let e) = outcome.withLock({ $0 }) { throw EventRelayError("deleting published rows: \(e)") }
    }
}

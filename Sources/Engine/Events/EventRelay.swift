import Foundation
import Logging
import Storage
import Synchronization

/// The outbox relay's thread: reads batches of the store's outbox, publishes them to JetStream and deletes each row
/// only once the stream acknowledged it (docs/events.md). Never on the loop: the reads, the publishes and the wait
/// for the deletes' commit all block. Retries with backoff while NATS or the stream is unavailable; a row whose
/// publish failed stays and is published again, and the stream's duplicate window drops a second copy by message id.
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
        var ackWaitMs: Int64 = 2_000
        /// The stream's duplicate window: a message id seen within it is stored once.
        var duplicateWindowMs: Int64 = 120_000
        /// Backoff after a failure: doubles from `firstBackoffMs` up to this.
        var maxBackoffMs = 250
        var firstBackoffMs = 100
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
                                                       ackWaitMs: settings.ackWaitMs)
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
                let batch: [OutboxEntry]
                do { batch = try store.pendingOutbox(afterID: 0, limit: settings.batchSize) } catch {
                    throw EventRelayError("reading the outbox: \(error)")
                }
                if batch.count < settings.batchSize {
                    pending.store(batch.count, ordering: .relaxed)
                } else if DispatchTime.now().uptimeNanoseconds > lastCountAt.uptimeNanoseconds + 500_000_000 {
                    // A full batch: count the backlog now and then (a scan), not on every batch.
                    if let n = try? store.outboxCount() { pending.store(n, ordering: .relaxed) }
                    lastCountAt = .now()
                }
                if batch.isEmpty {
                    connected.store(true, ordering: .relaxed)
                    _ = wakeup.wait(timeout: .now() + .milliseconds(settings.idlePollMs))
                    continue
                }
                let result = nats.publish(batch)
                if !result.acknowledged.isEmpty { try delete(result.acknowledged) }
                published.add(UInt64(result.acknowledged.count), ordering: .relaxed)
                duplicates.add(UInt64(result.duplicates), ordering: .relaxed)
                if result.failed > 0 {
                    throw EventRelayError("\(result.failed) of \(batch.count) events unacknowledged: \(result.firstError ?? "?")")
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

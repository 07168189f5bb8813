import Foundation
import Synchronization

/// The event-driven notification hub: events in, templates applied, notifications out to every sink.
///
/// ```
///  OrderBook / RatingBook / Engine ──publish(event)──► [bounded queue] ──notifier thread──► render ──► sink₁ … sinkₙ
/// ```
/// `publish` never blocks: it appends to a bounded queue (past `capacity` the event is dropped and
/// counted) and a serial dispatch queue renders and fans out.
public final class Notifier: Sendable {
    private let templates: NotificationTemplates
    private let sinks: [any NotificationSink]
    private let queue = DispatchQueue(label: "hexfleet.notifier")
    private let capacity: Int
    private let pending = Atomic<Int>(0)
    private let published = Atomic<UInt64>(0)
    private let dropped = Atomic<UInt64>(0)

    /// A notifier over sinks (the default deployment uses one `LogSink`).
    public init(sinks: [any NotificationSink], templates: NotificationTemplates = NotificationTemplates(),
                capacity: Int = 10_000) {
        self.sinks = sinks
        self.templates = templates
        self.capacity = max(1, capacity)
    }

    /// Queues an event for every sink; returns false (and counts a drop) when the queue is full.
    @discardableResult
    public func publish(_ event: NotificationEvent) -> Bool {
        let before = pending.add(1, ordering: .relaxed).oldValue
        guard before < capacity else {
            pending.subtract(1, ordering: .relaxed)
            dropped.add(1, ordering: .relaxed)
            return false
        }
        published.add(1, ordering: .relaxed)
        queue.async { [self] in
            let n = templates.render(event)
            for sink in sinks { sink.deliver(n) }
            pending.subtract(1, ordering: .relaxed)
        }
        return true
    }

    /// Blocks until every event published so far reached every sink (tests, shutdown).
    public func drain() { queue.sync {} }

    /// Events accepted, events dropped for a full queue.
    public var counters: (published: UInt64, dropped: UInt64) {
        (published.load(ordering: .relaxed), dropped.load(ordering: .relaxed))
    }
}

import Foundation
import Storage
import Synchronization

/// Counters of a webhook sink, as plain numbers the Engine exports as metrics.
public struct WebhookCounters: Sendable, Equatable {
    /// POST attempts made.
    public var attempts: UInt64
    /// Deliveries that got a 2xx.
    public var delivered: UInt64
    /// Attempts that failed (non-2xx or no answer).
    public var failures: UInt64
    /// Deliveries given up and dead-lettered.
    public var deadLetters: UInt64
    /// Notifications that could not be recorded durably and were not sent.
    public var enqueueFailures: UInt64
    /// Deliveries waiting for an attempt now.
    public var pending: UInt64
}

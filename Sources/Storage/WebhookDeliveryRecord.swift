/// A webhook delivery as stored in `webhook_deliveries`.
public struct WebhookDeliveryRecord: Sendable, Equatable {
    /// Where a delivery stands.
    public enum State: String, Sendable, CaseIterable {
        case pending, delivered, dead
        static let sqlList = allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")
    }

    /// The delivery's id.
    public var id: WebhookDeliveryID
    /// Target URL.
    public var endpoint: String
    /// Event name (e.g. `order.status_changed`).
    public var event: String
    /// The exact body bytes that are signed and sent.
    public var body: [UInt8]
    /// Current state.
    public var state: State
    /// Attempts made so far.
    public var attempts: Int
    /// Last failure, if any.
    public var lastError: String?
    /// When enqueued, ms since the epoch.
    public var createdAtMs: Int64
}

/// A delivery given up after its last attempt: one row of `webhook_dead_letters`.
public struct WebhookDeadLetter: Sendable, Equatable {
    /// The delivery.
    public var deliveryID: WebhookDeliveryID
    /// Target URL.
    public var endpoint: String
    /// Event name.
    public var event: String
    /// Body bytes.
    public var body: [UInt8]
    /// Attempts made.
    public var attempts: Int
    /// The last failure.
    public var lastError: String?
    /// When it was given up, ms since the epoch.
    public var deadAtMs: Int64
}

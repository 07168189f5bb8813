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

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

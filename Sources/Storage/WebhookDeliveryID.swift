/// A durable webhook delivery's identity (SQLite rowid).
public struct WebhookDeliveryID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number.
    public let rawValue: Int64
    /// Wraps a raw number.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (a: WebhookDeliveryID, b: WebhookDeliveryID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

import Storage
import Vocabulary

/// A rendered notification, ready for sinks.
public struct OutboundNotification: Sendable, Equatable {
    /// The event's name.
    public var event: String
    /// Who it is for.
    public var recipients: [Recipient]
    /// Short title from the template.
    public var title: String
    /// Text from the template.
    public var text: String
    /// The machine-readable JSON body (UTF-8), the same bytes a webhook signs and sends.
    public var payload: [UInt8]
    /// The order concerned, when there is one.
    public var orderID: OrderID?
}

import Storage

/// Something that happened that someone may be told about.
public enum NotificationEvent: Sendable, Equatable {
    /// An order was created (not sent again for an idempotent replay).
    case orderCreated(OrderRecord)
    /// An order changed status.
    case orderStatusChanged(OrderRecord, from: OrderStatus)
    /// A courier was offered an order (from the Dispatcher, through the Engine).
    case offerSent(orderID: OrderID, courierID: CourierID, expiresAtMs: Int64)
    /// An offer timed out unanswered.
    case offerExpired(orderID: OrderID, courierID: CourierID)
    /// A rating was recorded.
    case ratingReceived(RatingRecord)

    /// Stable event name, used for templates, webhook filters and the `X-Hexfleet-Event` header.
    public var name: String {
        switch self {
        case .orderCreated: return "order.created"
        case .orderStatusChanged: return "order.status_changed"
        case .offerSent: return "offer.sent"
        case .offerExpired: return "offer.expired"
        case .ratingReceived: return "rating.received"
        }
    }

    /// Every event name.
    public static let allNames = ["order.created", "order.status_changed", "offer.sent", "offer.expired", "rating.received"]
}

/// Who a notification is for.
public enum Recipient: Sendable, Hashable {
    case customer(CustomerID)
    case courier(CourierID)
    /// Operators' channels (webhooks, dashboards).
    case operators
}

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

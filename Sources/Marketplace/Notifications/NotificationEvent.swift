import Storage
import Vocabulary

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

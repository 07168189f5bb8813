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
    /// A driver entered, left or crossed a geofence (`kind`: `enter`, `exit`, `cross`).
    case fence(fence: String, driverID: DriverID, kind: String, atMs: Int64, lat: Double, lng: Double)
    /// An order's courier reached its pick-up (`place` = `pickup`) or drop-off (`dropoff`) area.
    case orderArrived(orderID: OrderID, courierID: CourierID, customerID: CustomerID, place: String, atMs: Int64)

    /// Stable event name, used for templates, webhook filters and the `X-Hexfleet-Event` header.
    public var name: String {
        switch self {
        case .orderCreated: return "order.created"
        case .orderStatusChanged: return "order.status_changed"
        case .offerSent: return "offer.sent"
        case .offerExpired: return "offer.expired"
        case .ratingReceived: return "rating.received"
        case .fence(_, _, let kind, _, _, _): return "fence.\(kind)"
        case .orderArrived(_, _, _, let place, _): return "order.arrived_\(place)"
        }
    }

    /// Every event name.
    public static let allNames = ["order.created", "order.status_changed", "offer.sent", "offer.expired", "rating.received",
                                   "fence.enter", "fence.exit", "fence.cross", "order.arrived_pickup", "order.arrived_dropoff"]
}

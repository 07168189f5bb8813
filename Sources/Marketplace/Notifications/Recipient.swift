import Storage
import Vocabulary

/// Who a notification is for.
public enum Recipient: Sendable, Hashable {
    case customer(CustomerID)
    case courier(CourierID)
    /// Operators' channels (webhooks, dashboards).
    case operators
}

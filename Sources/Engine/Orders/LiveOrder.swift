import Storage
import Vocabulary

/// What the loop keeps of an order that is not terminal: enough for the tracking hooks (who may watch it,
/// whose position to show) and for dispatch, without a store read per tick.
struct LiveOrder {
    var customer: UInt64
    var courier: UInt64?
    var status: OrderStatus
}

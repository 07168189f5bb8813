import Storage
import Vocabulary

/// What the loop keeps of an order that is not terminal: enough for the tracking hooks (who may watch it,
/// whose position to show) and for dispatch, without a store read per tick.
struct LiveOrder {
    var customer: CustomerID
    var courier: CourierID?
    var status: OrderStatus
    /// Where the courier picks up and drops off (arrival detection; the demo's couriers drive to the drop-off).
    var pickup: E7Point
    var dropoff: E7Point
    /// When it was created and its ready time, deadline and ride limit (dispatch plans with them).
    var createdAtMs: Int64 = 0
    var timing = OrderTiming()
    /// Writes that follow dispatch's offer events, asked for with `status`/`courier` already moved, and not
    /// committed yet. While any is in flight the loop's view is newer than a committed record, so a commit leaves
    /// it alone (the store commits in the order asked, and the last of them carries this view).
    var dispatchWritesInFlight = 0
}

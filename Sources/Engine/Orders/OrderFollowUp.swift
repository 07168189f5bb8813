import Vocabulary

/// Loop work that follows a committed status change, beyond what the new status implies.
enum OrderFollowUp: Sendable, Equatable {
    case nothing
    /// Queue the order for dispatch again (a dispatched order found at restart, its offer lost).
    case requeue
    /// A write that follows a dispatch offer event for this order; the loop's view moved when it was asked for
    /// (`LiveOrder.dispatchWritesInFlight`).
    case followsDispatch(order: OrderID)
}

/// Loop work that follows a committed status change, beyond what the new status implies.
enum OrderFollowUp: Sendable {
    case nothing
    /// Queue the order for dispatch again (a dispatched order found at restart, its offer lost).
    case requeue
}

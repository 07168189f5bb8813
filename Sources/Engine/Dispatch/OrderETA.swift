/// An order's live estimates from its courier's planned route: when the courier reaches the pickup and the
/// drop-off, ms since the Unix epoch (nil when that stop is no longer, or not yet, planned).
struct OrderETA: Equatable, Sendable {
    var pickupMs: Int64?
    var dropoffMs: Int64?
}

/// How a candidate (order, courier) pair is priced, in "equivalent seconds":
///
///     cost = pickupETAWeight × ETA
///          − orderWaitWeight × min(order waited, maxWaitCreditSeconds)
///          − courierIdleWeight × min(courier idle, maxIdleCreditSeconds)
///          + fairnessSecondsPerAssignment × courier's recent assignments
///          − ratingSecondsPerStar × (rating − 3)          (when a rating is known)
///
/// The order-wait term does not change which courier an order prefers; it decides which orders win
/// when couriers are scarce (older first). The idle and fairness terms spread work across couriers.
public struct DispatchCostModel: Sendable, Equatable {
    /// Weight of the pickup ETA (seconds).
    public var pickupETAWeight: Double = 1
    /// Credit per second an order has waited.
    public var orderWaitWeight: Double = 0.5
    /// Cap on the waited seconds that earn credit.
    public var maxWaitCreditSeconds: Double = 1_800
    /// Credit per second a courier has been idle.
    public var courierIdleWeight: Double = 0.1
    /// Cap on the idle seconds that earn credit.
    public var maxIdleCreditSeconds: Double = 1_800
    /// Penalty per order the courier already got in the fairness window.
    public var fairnessSecondsPerAssignment: Double = 30
    /// Credit per rating star above 3 (0 turns the term off).
    public var ratingSecondsPerStar: Double = 0

    /// The defaults above.
    public init() {}

    /// The cost of giving `order` to `courier` at `nowMs` with pickup ETA `etaSeconds`.
    public func cost(etaSeconds: Double, order: WaitingOrder, courier: CourierSnapshot, nowMs: Int64) -> Double {
        let waited = min(maxWaitCreditSeconds, max(0, Double(nowMs - order.createdAtMs) / 1_000))
        let idle = min(maxIdleCreditSeconds, max(0, Double(nowMs - courier.idleSinceMs) / 1_000))
        var c = pickupETAWeight * etaSeconds - orderWaitWeight * waited - courierIdleWeight * idle
            + fairnessSecondsPerAssignment * Double(max(0, courier.recentAssignments))
        if ratingSecondsPerStar != 0, let r = courier.rating, r.isFinite {
            c -= ratingSecondsPerStar * (min(5, max(1, r)) - 3)
        }
        return c
    }
}

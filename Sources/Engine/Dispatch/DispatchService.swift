import Dispatcher
import FleetIndex
import HexGeo
import Vocabulary

/// The engine's dispatch state, loop-owned: orders waiting for a courier, the offer book, and the batching
/// clock. A round's inputs leave the loop as values (`DispatchRound` is `Sendable`), the solve runs on a
/// worker, and the plan comes back to the loop, where it is checked against what changed meanwhile.
final class DispatchService {
    var waiting = FIFOWaitingOrders()
    let offers: OfferBook
    var policy: DispatchPolicy
    var config = DispatchConfig()
    /// A round runs every `intervalMs`, or as soon as `batchSize` orders wait.
    var intervalMs: Int64
    var batchSize: Int
    var roundInFlight = false
    var lastRoundMs: Int64 = 0
    /// Straight-line ETAs only when asked for explicitly (or when no graph is loaded and the operator said so).
    var useStraightLine: Bool
    /// A courier's rating for the cost model's optional rating term (the orders module fills this in).
    var courierRating: ((UInt64) -> Double?)?
    /// Counters for /metrics and /v1/dispatch/stats.
    var rounds: UInt64 = 0
    var offersMade: UInt64 = 0
    var roundErrors: UInt64 = 0
    var lastRoundMicros: UInt64 = 0

    init(policy: DispatchPolicy, intervalMs: Int64, batchSize: Int, offerTimeoutMs: Int64, useStraightLine: Bool) throws {
        self.policy = policy
        self.intervalMs = intervalMs
        self.batchSize = batchSize
        self.useStraightLine = useStraightLine
        offers = try OfferBook(timeoutMs: offerTimeoutMs)
    }

    /// Couriers near the waiting orders, as a snapshot a worker can read: the union of each order's nearest
    /// available drivers within its (waiting-time-widened) search radius.
    func courierSnapshot(table: DriverTable, nowMs: Int64) -> CourierSnapshotIndex {
        var seen = Set<UInt64>()
        var couriers: [CourierSnapshot] = []
        var found: [NearbyDriver] = []
        let busy = offers.busyCouriers
        for order in waiting.waiting {
            let waited = Double(max(0, nowMs - order.createdAtMs)) / 1000
            found.removeAll(keepingCapacity: true)
            table.nearest(to: order.pickup,
                          k: config.maxCandidatesPerOrder * 2, maxRadiusMeters: config.searchRadiusMeters(waitedSeconds: waited),
                          statuses: StatusFilter(.available), nowMs: nowMs, into: &found)
            for d in found where seen.insert(d.state.id.rawValue).inserted && !busy.contains(CourierID(d.state.id.rawValue)) {
                couriers.append(CourierSnapshot(
                    id: CourierID(d.state.id.rawValue),
                    position: LatLng(degrees: d.state.latDegrees, d.state.lngDegrees),
                    status: .available, vehicle: .car, capacityUnits: 1, idleSinceMs: d.state.timestampMs,
                    rating: courierRating?(d.state.id.rawValue)))
            }
        }
        return CourierSnapshotIndex(couriers)
    }
}

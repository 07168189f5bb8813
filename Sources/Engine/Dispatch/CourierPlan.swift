import Dispatcher
import Storage
import Vocabulary

/// What dispatch needs of an order, beyond its `WaitingOrder`, to plan a route: where it goes and its times
/// (orders supply it from their live view; docs/dispatch.md).
struct DispatchOrderDetails: Sendable, Equatable {
    /// Where the courier hands the order over.
    var dropoff: LatLng
    /// When the order was created, ms since the Unix epoch (ready time and deadline count from it).
    var createdAtMs: Int64
    /// Ready time, deadline and maximum ride as the client gave them.
    var timing: OrderTiming
}

/// One courier's promised stops, loop-owned by dispatch: the pickups and drop-offs of its accepted orders in the
/// order it will visit them, with the last ETAs computed along them.
///
/// Invariants: every order in `stops` has its drop-off there, after its pickup when the pickup is still there (a
/// drop-off alone = on board); `details` holds exactly the orders of `stops`; `version` changes with every change
/// of `stops`, and `etaMs` is parallel to `stops` only while `etaVersion == version`.
struct CourierPlan {
    /// A stop: an order's pickup or drop-off and where it is.
    struct Stop: Equatable, Sendable {
        var order: OrderID
        var kind: PlanStopKind
        var point: LatLng
    }

    var stops: [Stop] = []
    var details: [OrderID: DispatchOrderDetails] = [:]
    private(set) var version: UInt64 = 0
    /// Arrival at each stop (ms since the Unix epoch) from the last ETA computation.
    var etaMs: [Int64] = []
    var etaVersion: UInt64 = .max
    /// When the last ETA computation started, and the timestamp of the ping it started from.
    var etaComputedAtMs: Int64 = 0
    var etaPingMs: Int64 = .min

    /// Orders in the plan (on board or to collect).
    var orderCount: Int { details.count }

    /// Inserts `order`'s pickup before stop `pickupAt` and its drop-off before stop `dropoffAt` (indices into the
    /// current stops, `dropoffAt ≥ pickupAt`; clamped to the route), as the planner's insertion does.
    mutating func insert(_ order: OrderID, pickup: LatLng, details: DispatchOrderDetails, pickupAt: Int, dropoffAt: Int) {
        let i = min(max(0, pickupAt), stops.count)
        let j = min(max(i, dropoffAt), stops.count)
        stops.insert(Stop(order: order, kind: .pickup, point: pickup), at: i)
        stops.insert(Stop(order: order, kind: .dropoff, point: details.dropoff), at: j + 1)
        self.details[order] = details
        version &+= 1
    }

    /// Appends an order already on board (`pickedUp`) or still to collect, at the end (restart, single dispatch).
    mutating func append(_ order: OrderID, pickup: LatLng, details: DispatchOrderDetails, pickedUp: Bool) {
        if !pickedUp { stops.append(Stop(order: order, kind: .pickup, point: pickup)) }
        stops.append(Stop(order: order, kind: .dropoff, point: details.dropoff))
        self.details[order] = details
        version &+= 1
    }

    /// Removes the pickup of `order` (collected); false when it was not planned.
    @discardableResult
    mutating func removePickup(of order: OrderID) -> Bool {
        guard let k = stops.firstIndex(where: { $0.order == order && $0.kind == .pickup }) else { return false }
        stops.remove(at: k)
        version &+= 1
        return true
    }

    /// Removes every stop of `order` (delivered, cancelled, failed); false when it was not planned.
    @discardableResult
    mutating func remove(_ order: OrderID) -> Bool {
        guard details.removeValue(forKey: order) != nil else { return false }
        stops.removeAll { $0.order == order }
        version &+= 1
        return true
    }

    /// Where `stopsThen[index]` sits in the current stops: how many of the stops before it then are still planned
    /// (stops only leave a plan between an offer and its answer, since a courier holds one open offer at a time).
    func mappedIndex(_ index: Int, from stopsThen: [Stop]) -> Int {
        var n = 0
        for s in stopsThen.prefix(index) where stops.contains(where: { $0.order == s.order && $0.kind == s.kind }) { n += 1 }
        return n
    }

    /// ETAs of `order`'s stops from the last computation, when it matches the current stops.
    func eta(of order: OrderID) -> OrderETA? {
        guard etaVersion == version, etaMs.count == stops.count else { return nil }
        var out = OrderETA()
        for (k, s) in stops.enumerated() where s.order == order {
            if s.kind == .pickup { out.pickupMs = etaMs[k] } else { out.dropoffMs = etaMs[k] }
        }
        return out
    }

    /// The planner's view of the promised stops.
    var planStops: [PlanStop] { stops.map { PlanStop(order: $0.order, kind: $0.kind) } }
}

/// Stops, orders on board and service: how arrival times follow from legs (the planner's schedule model, in ms).
enum PlanSchedule {
    /// Arrival at each stop when the courier leaves its position at `startMs` and each leg takes `legSeconds[k]`
    /// (leg k ends at stop k); a pickup's service starts no earlier than its ready time, and every stop takes
    /// `serviceSeconds`. An unreachable leg (∞) makes that and later arrivals `Int64.max`.
    static func arrivals(stops: [CourierPlan.Stop], details: [OrderID: DispatchOrderDetails], legSeconds: [Double],
                         startMs: Int64, serviceSeconds: Double) -> [Int64] {
        var t = Double(startMs)
        var out: [Int64] = []
        out.reserveCapacity(stops.count)
        for (k, stop) in stops.enumerated() {
            let leg = k < legSeconds.count ? legSeconds[k] : .infinity
            guard leg.isFinite, t.isFinite else { out.append(.max); t = .infinity; continue }
            let arrival = t + leg * 1000
            out.append(Int64(arrival.rounded()))
            var start = arrival
            if stop.kind == .pickup, let d = details[stop.order] {
                start = max(arrival, Double(d.createdAtMs) + Double(d.timing.readyInSeconds ?? 0) * 1000)
            }
            t = start + serviceSeconds * 1000
        }
        return out
    }
}

import Dispatcher
import FleetIndex
import JSON
import Routing
import Vocabulary

/// One courier's ETA computation: its position and planned stops when it started.
struct ETAJob: Sendable {
    var courier: CourierID
    var version: UInt64
    var pingMs: Int64
    /// The courier's position, then each stop's point.
    var points: [LatLng]
    /// What the courier drives: its legs are timed on that vehicle's profile.
    var vehicle: VehicleType = .car
}

/// Live ETAs along planned routes, and quotes' delivery promises.
extension DispatchService {
    /// An ETA message for watchers moves only when an estimate moved by at least this.
    static let etaResendMs: Int64 = 15_000

    /// Recomputes the ETAs of couriers whose plan changed or who pinged since, each at most once a second: one
    /// batch per tick on a worker (road legs from the live weights), never on the ping path. Without a graph the
    /// legs are straight lines, computed here.
    func refreshETAs(nowMs now: Int64) {
        guard !etaInFlight, !plans.isEmpty else { return }
        var jobs: [ETAJob] = []
        for (courier, plan) in plans where !plan.stops.isEmpty {
            guard now - plan.etaComputedAtMs >= 1_000, let state = table.state(of: courier) else { continue }
            guard plan.etaVersion != plan.version || state.timestampMs != plan.etaPingMs else { continue }
            jobs.append(ETAJob(courier: courier, version: plan.version, pingMs: state.timestampMs,
                               points: [state.position] + plan.stops.map(\.point), vehicle: courierVehicles[courier] ?? .car))
            plans[courier]?.etaComputedAtMs = now
        }
        guard !jobs.isEmpty else { return }
        guard let roads else {
            let provider = StraightLineETAProvider()
            let legs = jobs.map { job in
                (1..<job.points.count).map { k in
                    (try? provider.etaSeconds(from: [job.points[k - 1]], to: [job.points[k]]))?.first ?? .infinity
                }
            }
            finishETAs(jobs, legs: legs, startMs: now)
            return
        }
        let car = ProfileRoad(network: roads.network, weights: roads.weights)
        let others = profileRoads.mapValues { ProfileRoad(network: $0.network, weights: $0.weights) }
        etaInFlight = true
        do {
            try workers.run(jobs, { jobs -> [[Double]] in
                let all = jobs.flatMap(\.points)
                let travel = RoadTravelTimes(points: all, car: car, others: others)
                var legs: [[Double]] = [], base = 0
                for job in jobs {
                    let profile = travel.profile(of: job.vehicle)
                    legs.append((1..<job.points.count).map { travel.seconds(base + $0 - 1, base + $0, profile: profile) })
                    base += job.points.count
                }
                return legs
            }) { [unowned self] legs in
                self.etaInFlight = false
                self.finishETAs(jobs, legs: legs, startMs: now)
            }
        } catch {
            etaInFlight = false
        }
    }

    /// Applies computed legs: arrival times along each still-current plan, then an `eta` message for each order
    /// whose pickup or drop-off estimate moved by 15 s or more since the last one sent (the first one is sent too).
    func finishETAs(_ jobs: [ETAJob], legs: [[Double]], startMs: Int64) {
        for (job, legSeconds) in zip(jobs, legs) {
            guard var plan = plans[job.courier], plan.version == job.version else { continue }
            plan.etaMs = PlanSchedule.arrivals(stops: plan.stops, details: plan.details, legSeconds: legSeconds,
                                               startMs: startMs, serviceSeconds: serviceSeconds)
            plan.etaVersion = plan.version
            plan.etaPingMs = job.pingMs
            plans[job.courier] = plan
            for order in plan.details.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                guard var eta = plan.eta(of: order) else { continue }
                if eta.pickupMs == .max { eta.pickupMs = nil }
                if eta.dropoffMs == .max { eta.dropoffMs = nil }
                currentETAs[order] = eta
                if let sent = sentETAs[order], !Self.moved(sent.pickupMs, eta.pickupMs), !Self.moved(sent.dropoffMs, eta.dropoffMs) { continue }
                sentETAs[order] = eta
                let message = Self.etaMessage(order, eta)
                for listener in etaListeners { listener(order, message) }
            }
        }
    }

    /// Whether an estimate moved by at least `etaResendMs` (a stop that left the plan is no move).
    static func moved(_ old: Int64?, _ new: Int64?) -> Bool {
        guard let new else { return false }
        guard let old else { return true }
        return abs(new - old) >= etaResendMs
    }

    /// `{"type":"eta","order":ID,"eta_pickup_ms":…,"eta_dropoff_ms":…}` (null for a stop no longer planned).
    static func etaMessage(_ order: OrderID, _ eta: OrderETA) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.key("type"); w.string("eta")
        w.key("order"); w.number(order.rawValue)
        w.key("eta_pickup_ms"); if let v = eta.pickupMs { w.number(v) } else { w.null() }
        w.key("eta_dropoff_ms"); if let v = eta.dropoffMs { w.number(v) } else { w.null() }
        w.endObject()
        return w.bytes
    }

    // MARK: - promises

    /// When an order placed now could be delivered (`promise_ms` of a quote): the earliest pickup by one of the
    /// nearest couriers that could take it (available now, or free after the stops it has planned), no earlier than
    /// `readyAtMs`, then a pickup stop, then the trip's `tripSeconds`. Nil when no courier is near.
    /// Road times on the loop's own workspace (a handful of couriers to one point: a one-target matrix).
    func promiseMs(pickup: LatLng, readyAtMs: Int64, tripSeconds: Double, nowMs now: Int64) -> Int64? {
        var found: [NearbyDriver] = []
        table.nearest(to: pickup, k: 8, maxRadiusMeters: config.maxRadiusMeters, statuses: Self.stackableStatuses, nowMs: now,
                      into: &found)
        var froms: [LatLng] = [], freeAt: [Int64] = []
        for d in found {
            if let plan = plans[d.state.id], let last = plan.stops.last {
                let etas = routeETAs(plan, position: d.state.position, nowMs: now)
                guard let end = etas.last, end != .max else { continue }
                froms.append(last.point)
                freeAt.append(end + Int64(serviceSeconds * 1000))
            } else if d.state.status == .available {
                froms.append(d.state.position)
                freeAt.append(now)
            }
        }
        guard !froms.isEmpty else { return nil }
        var seconds: [Double] = []
        if let roads, !useStraightLine {
            let key = ObjectIdentifier(roads.weights)
            var q: RouteQuery
            if let cached = promiseQuery, cached.weights == key { q = cached.query } else { q = roads.network.makeQuery(weights: roads.weights) }
            promiseQuery = nil
            let rows = (try? q.matrix(sources: froms, targets: [pickup])) ?? []
            promiseQuery = (key, q)
            seconds = rows.map { $0.first.flatMap { $0 } ?? .infinity }
        }
        if seconds.count != froms.count {
            // No road graph, straight lines asked for, or a point off the roads: straight lines.
            seconds = (try? StraightLineETAProvider().etaSeconds(from: froms, to: [pickup])) ?? []
        }
        var best: Int64?
        for (k, s) in seconds.enumerated() where s.isFinite {
            let at = freeAt[k] + Int64((s * 1000).rounded())
            if best.map({ at < $0 }) ?? true { best = at }
        }
        guard let arrival = best else { return nil }
        let pickupStart = max(arrival, readyAtMs)
        return pickupStart + Int64(serviceSeconds * 1000) + Int64((tripSeconds * 1000).rounded())
    }
}

import Dispatcher
import FleetIndex
import Foundation
import Routing
import Vocabulary

/// One stacking round as the engine runs it on a worker: built on the loop from the live table, the plans and the
/// queue as plain values (public so that the benchmarks time exactly this).
public struct StackingRoundInput: Sendable {
    /// Couriers (start = their position, available now, promised stops) and orders (promised and waiting); times in
    /// seconds from the round's start; the matrix is unused (travel comes from `points`).
    public var instance: PlanInstance
    /// Location `k` of the instance.
    public var points: [LatLng]
    /// Road network and live weights, or nil for straight-line travel.
    public var network: RoadNetwork?
    public var weights: RoutingWeights?
    /// Declined or expired (order, courier) pairs, never proposed again.
    public var excludedPairs: Set<OfferPair>
    /// Nearest couriers (straight line) whose insertions are priced per order.
    public var candidatesPerOrder: Int
    /// What each courier drives (cars when missing): its legs are timed on that vehicle's profile.
    public var vehicles: [CourierID: VehicleType]
    /// Roads of the other loaded profiles (bicycle, scooter); a vehicle whose profile is missing routes as a car.
    public var otherProfiles: [RoutingProfile: ProfileRoad]
    /// Weight of a second of delivery delay against a second of added travel (`StackingRound.run`; 0: travel only).
    public var delayWeight: Double = 0

    /// A round's input; see the properties.
    public init(instance: PlanInstance, points: [LatLng], network: RoadNetwork?, weights: RoutingWeights?,
                excludedPairs: Set<OfferPair> = [], candidatesPerOrder: Int = 30,
                vehicles: [CourierID: VehicleType] = [:], otherProfiles: [RoutingProfile: ProfileRoad] = [:]) {
        self.instance = instance; self.points = points; self.network = network; self.weights = weights
        self.excludedPairs = excludedPairs; self.candidatesPerOrder = candidatesPerOrder
        self.vehicles = vehicles; self.otherProfiles = otherProfiles
    }
}

/// What a stacking round hands back: proposals with their pickup ETA (seconds from the round's start), the road
/// legs it computed and the upward search spaces those took.
public struct StackingRoundOutput: Sendable {
    public var proposals: [(proposal: StackingRound.Proposal, pickupETASeconds: Double)]
    public var roadQueries: Int
    public var searchSpaces: Int = 0
}

extension StackingRoundInput {
    /// Runs the round (on a worker): promises that can no longer be kept on time are relaxed first (their
    /// deadlines and ride limits dropped: a late order stays with its courier, and new insertions may not be
    /// judged against a limit it already broke), couriers with an unreachable promised stop are left out.
    public func run() throws(PlanInstanceError) -> StackingRoundOutput {
        let selection = StraightLineTravelTimes(latLng: points.map { ($0.latDegrees, $0.lngDegrees) },
                                                speedMetersPerSecond: 30 / 3.6 / 1.3)
        if let network, let weights {
            let road = RoadTravelTimes(points: points, car: ProfileRoad(network: network, weights: weights), others: otherProfiles)
            let proposals = try plan(travel: road, selection: selection) { road.bind(couriers: $0, vehicles: vehicles) }
            return StackingRoundOutput(proposals: proposals, roadQueries: road.queries, searchSpaces: road.spacesSearched)
        }
        return StackingRoundOutput(proposals: try plan(travel: selection, selection: selection) { _ in }, roadQueries: 0)
    }

    /// `bind` tells the travel times which couriers the instance at hand lists (their vehicles pick the profile).
    private func plan<T: TravelTimes>(travel: T, selection: StraightLineTravelTimes, bind: ([PlanCourier]) -> Void) throws(PlanInstanceError)
        -> [(proposal: StackingRound.Proposal, pickupETASeconds: Double)] {
        var instance = self.instance
        bind(instance.couriers)
        var indexOf: [OrderID: Int] = [:]
        for (k, o) in instance.orders.enumerated() { indexOf[o.id] = k }
        var dropped = Set<OrderID>()
        var keptCouriers: [PlanCourier] = []
        for (c, courier) in instance.couriers.enumerated() {
            if Self.keeps(courier, c, instance.orders, indexOf, travel) { keptCouriers.append(courier); continue }
            for s in courier.stops {
                if let k = indexOf[s.order] { instance.orders[k].deadline = .infinity; instance.orders[k].maxRide = .infinity }
            }
            if Self.keeps(courier, c, instance.orders, indexOf, travel) {
                keptCouriers.append(courier)
            } else {
                for s in courier.stops { dropped.insert(s.order) }
            }
        }
        instance.couriers = keptCouriers
        bind(keptCouriers)
        if !dropped.isEmpty { instance.orders.removeAll { dropped.contains($0.id) } }
        let proposals = try StackingRound.run(instance, travel: travel, selection: selection,
                                              candidatesPerOrder: candidatesPerOrder, excludedPairs: excludedPairs,
                                              delayWeight: delayWeight)
        // Pickup ETA of each proposal: the courier's schedule with the insertion made.
        var courierIndex: [CourierID: Int] = [:]
        for (k, c) in instance.couriers.enumerated() { courierIndex[c.id] = k }
        var orderIndex: [OrderID: Int] = [:]
        for (k, o) in instance.orders.enumerated() { orderIndex[o.id] = k }
        return proposals.map { p -> (proposal: StackingRound.Proposal, pickupETASeconds: Double) in
            guard let c = courierIndex[p.courier], orderIndex[p.order] != nil else { return (p, .infinity) }
            var stops = instance.couriers[c].stops
            stops.insert(PlanStop(order: p.order, kind: .pickup), at: p.pickupAt)
            stops.insert(PlanStop(order: p.order, kind: .dropoff), at: p.dropoffAt + 1)
            var courier = instance.couriers[c]
            courier.stops = stops
            let times = Self.schedule(courier, c, instance.orders, orderIndex, travel)
            return (p, p.pickupAt < times.count ? times[p.pickupAt].arrival : .infinity)
        }
    }

    /// Arrival and service start at each stop of `courier`'s route (the planner's schedule model); `index` is its
    /// place in the instance the travel times are bound to.
    static func schedule<T: TravelTimes>(_ courier: PlanCourier, _ index: Int, _ orders: [PlanOrder], _ indexOf: [OrderID: Int], _ travel: T)
        -> [(arrival: Double, start: Double)] {
        var t = courier.availableAt, loc = courier.start
        var out: [(arrival: Double, start: Double)] = []
        for s in courier.stops {
            guard let k = indexOf[s.order] else { out.append((.infinity, .infinity)); continue }
            let o = orders[k]
            let here = s.kind == .pickup ? o.pickup : o.dropoff
            let arrival = t + travel.seconds(loc, here, courier: index)
            let start = s.kind == .pickup ? max(arrival, o.readyAt) : arrival
            out.append((arrival, start))
            t = start + o.service; loc = here
        }
        return out
    }

    /// Whether `courier`'s promised stops keep every leg reachable, its capacity, deadlines and ride limits.
    static func keeps<T: TravelTimes>(_ courier: PlanCourier, _ index: Int, _ orders: [PlanOrder], _ indexOf: [OrderID: Int], _ travel: T) -> Bool {
        let times = schedule(courier, index, orders, indexOf, travel)
        var load = 0, pickupStart: [OrderID: Double] = [:]
        for s in courier.stops where s.kind == .dropoff && !courier.stops.contains(PlanStop(order: s.order, kind: .pickup)) { load += 1 }
        if load > courier.capacity { return false }
        for (k, s) in courier.stops.enumerated() {
            guard let i = indexOf[s.order], times[k].arrival.isFinite else { return false }
            if s.kind == .pickup {
                load += 1
                pickupStart[s.order] = times[k].start
                if load > courier.capacity { return false }
            } else {
                load -= 1
                if times[k].arrival > orders[i].deadline { return false }
                if let ps = pickupStart[s.order], times[k].arrival - ps > orders[i].maxRide { return false }
            }
        }
        return true
    }
}

extension DispatchService {
    /// A stacking round (docs/dispatch.md, "Stacking"): each waiting order's nearest couriers that are available or
    /// have room in their plan (forward dispatch for couriers on trip near the end of theirs), one `StackingRound`
    /// on a worker, then one offer per proposal at its insertion point. The caller checked that a round is due.
    func stackingTick(nowMs now: Int64) {
        guard roads != nil || useStraightLine else { return }   // no graph and straight-line ETAs not enabled: orders wait
        lastRoundMs = now
        let (input, versions) = stackingInput(nowMs: now)
        guard !input.instance.couriers.isEmpty else {
            rounds &+= 1   // a round with no candidate courier: nothing to solve
            return
        }
        roundInFlight = true
        let started = ContinuousClock.now
        do {
            try workers.run(input, { input -> Result<StackingRoundOutput, PlanInstanceError> in
                do throws(PlanInstanceError) { return .success(try input.run()) } catch { return .failure(error) }
            }) { [unowned self] result in
                self.roundFinished(startedAt: started)
                switch result {
                case .failure(let error):
                    self.roundErrors &+= 1
                    self.logger.warning("stacking round failed", metadata: ["error": "\(error)"])
                case .success(let output):
                    self.lastRoundRoadQueries = output.roadQueries
                    self.applyStacking(output, versions: versions)
                }
            }
        } catch {
            roundInFlight = false
            roundErrors &+= 1
        }
    }

    /// The round's instance: candidate couriers (nearest to some waiting order, fresh, holding no open offer,
    /// available or planned by dispatch with room), their promised stops, and the waiting orders; times in seconds
    /// from `now`. Returns the plan version of each courier, to skip proposals whose route changed meanwhile.
    func stackingInput(nowMs now: Int64) -> (StackingRoundInput, [CourierID: UInt64]) {
        var points: [LatLng] = []
        var couriers: [PlanCourier] = []
        var orders: [PlanOrder] = []
        var versions: [CourierID: UInt64] = [:]
        var found: [NearbyDriver] = []
        let holding = Set(offers.openOffers.values.map(\.courier))
        var candidates: [(id: CourierID, position: LatLng)] = []
        var seen = Set<CourierID>()
        // Orders whose food is more than `holdLeadSeconds` from ready wait for a later round.
        let due = waiting.waiting.filter { order in
            let d = details(of: order)
            return d.createdAtMs + (d.timing.readyInSeconds ?? 0) * 1000 - now <= Int64(holdLeadSeconds * 1000)
        }
        for order in due {
            let search = candidateSearch(for: order, nowMs: now)
            found.removeAll(keepingCapacity: true)
            table.nearest(to: order.pickup, k: search.k, maxRadiusMeters: search.radiusMeters, statuses: search.statuses,
                          nowMs: now, into: &found)
            for d in found where seen.insert(d.state.id).inserted {
                let id = d.state.id
                guard !holding.contains(id) else { continue }
                let elsewhere = border.heldElsewhere[id] ?? 0   // orders other shards gave it (cluster)
                if let plan = plans[id] {
                    guard plan.orderCount + elsewhere < capacity(of: id) else { continue }
                    // Forward dispatch: a courier with only drop-offs left takes a next pickup when it ends soon.
                    if !plan.stops.contains(where: { $0.kind == .pickup }), let last = plan.etaMs.last,
                       plan.etaVersion == plan.version, Double(last - now) / 1000 > forwardHorizonSeconds { continue }
                } else if d.state.status != .available || elsewhere >= capacity(of: id) {
                    continue   // busy with work dispatch does not plan
                }
                candidates.append((id, d.state.position))
            }
        }
        // Cluster: couriers other shards hold near the border orders, by the same rules (DispatchService+Border.swift).
        for s in border.remote.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) where seen.insert(s.id).inserted && !holding.contains(s.id) {
            let elsewhere = border.heldElsewhere[s.id] ?? 0
            if let plan = plans[s.id] {
                guard plan.orderCount + elsewhere < capacity(of: s.id) else { continue }
            } else if s.status != .available || elsewhere >= capacity(of: s.id) {
                continue
            }
            candidates.append((s.id, s.position))
        }
        func time(_ ms: Int64) -> Double { max(0, Double(ms - now) / 1000) }
        func planOrder(_ id: OrderID, pickup: Int, dropoff: Int, _ d: DispatchOrderDetails) -> PlanOrder {
            let ready = time(d.createdAtMs + (d.timing.readyInSeconds ?? 0) * 1000)
            var deadline = Double.infinity
            if let s = d.timing.deadlineSeconds {
                let due = Double(d.createdAtMs + s * 1000 - now) / 1000
                if due > 0 { deadline = due }   // already late: served as soon as possible, not never
            }
            return PlanOrder(id: id, pickup: pickup, dropoff: dropoff, readyAt: ready, deadline: deadline,
                             maxRide: d.timing.maxRideSeconds.map(Double.init) ?? defaultMaxRideSeconds, service: serviceSeconds)
        }
        for c in candidates {
            let start = points.count
            points.append(c.position)
            let plan = plans[c.id] ?? CourierPlan()
            versions[c.id] = plan.version
            var pickupLoc: [OrderID: Int] = [:], dropoffLoc: [OrderID: Int] = [:]
            for s in plan.stops {
                if s.kind == .pickup { pickupLoc[s.order] = points.count } else { dropoffLoc[s.order] = points.count }
                points.append(s.point)
            }
            for (id, d) in plan.details.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                guard let drop = dropoffLoc[id] else { continue }
                orders.append(planOrder(id, pickup: pickupLoc[id] ?? drop, dropoff: drop, d))
            }
            couriers.append(PlanCourier(id: c.id, start: start, availableAt: 0,
                                        capacity: capacity(of: c.id) - (border.heldElsewhere[c.id] ?? 0), stops: plan.planStops))
        }
        for order in due {
            let d = details(of: order)
            let p = points.count
            points.append(order.pickup)
            points.append(d.dropoff)
            orders.append(planOrder(order.id, pickup: p, dropoff: p + 1, d))
        }
        let instance = PlanInstance(locationCount: points.count, matrix: [], couriers: couriers, orders: orders)
        let road = useStraightLine ? nil : roads
        var vehicles: [CourierID: VehicleType] = [:]
        for c in couriers { if let v = courierVehicles[c.id] { vehicles[c.id] = v } }
        var input = StackingRoundInput(instance: instance, points: points, network: road?.network, weights: road?.weights,
                                       excludedPairs: offers.excludedPairs, candidatesPerOrder: config.maxCandidatesPerOrder,
                                       vehicles: vehicles,
                                       otherProfiles: useStraightLine ? [:] : profileRoads.mapValues { ProfileRoad(network: $0.network, weights: $0.weights) })
        input.delayWeight = stackingDelayWeight
        return (input, versions)
    }

    /// Turns proposals into offers, skipping what changed while the round ran (order gone, courier gone, busy with
    /// another offer, or its plan changed).
    func applyStacking(_ output: StackingRoundOutput, versions: [CourierID: UInt64]) {
        let now = clock.nowMs
        for (p, eta) in output.proposals {
            guard let order = waiting.waiting.first(where: { $0.id == p.order }) else { continue }
            guard let state = courierState(p.courier), !isStaleCourier(state.id, nowMs: now),
                  (plans[p.courier]?.version ?? 0) == versions[p.courier] else { continue }
            let stops = plans[p.courier]?.stops ?? []
            pendingInsertions[p.order] = (p.courier, p.pickupAt, p.dropoffAt, stops)
            if eta.isFinite { offerETAs[p.order] = eta }
            do {
                _ = try offers.offer(order, to: p.courier, nowMs: now)
                _ = waiting.remove(p.order)
                offersMade &+= 1
                if !stops.isEmpty { stackedOffers &+= 1 }
                if table.state(of: p.courier) == nil { cluster?.remoteOffers &+= 1 }
            } catch {
                pendingInsertions[p.order] = nil
                offerETAs[p.order] = nil
                continue
            }
        }
        drainOfferEvents()
    }
}

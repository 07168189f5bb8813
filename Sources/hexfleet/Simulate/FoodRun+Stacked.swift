import Dispatcher
import Foundation
import Vocabulary

/// The `stacked` policy of the food scenario: planning views of couriers, insertion pricing, the round's
/// assignment and the route check on acceptance (`FoodSimulation` describes the policy).
extension FoodRun {
    /// Courier `c` at `nowMs` as the planner sees it: idle where it stands, or from the end of the service at the
    /// stop it is heading for (that stop is settled; the rest are promised).
    func planningView(_ c: Int) -> PlanningView {
        let k = couriers[c]
        guard let first = k.stops.first else { return PlanningView(start: k.node, availableAt: 0, promised: [], pace: pace(c)) }
        let endMs: Int64
        switch k.phase {
        case .atStop:
            endMs = k.serviceEndMs
        default:
            let arrival = max(nowMs, k.estimatedArrivalMs)
            let o = orders[Int(first.order.rawValue) - 1].draw
            let start = first.kind == .pickup ? max(arrival, o.readyMs) : arrival
            endMs = start + Int64(s.demand.serviceSeconds * 1000)
        }
        return PlanningView(start: location(first), availableAt: max(0, Double(endMs - nowMs) / 1000),
                            promised: Array(k.stops.dropFirst()), pace: pace(c))
    }

    /// A promised order as the planner holds it, times in seconds from `nowMs`.
    struct PromisedTerms {
        var order: Int
        var readyAt: Double
        var deadline: Double
        var maxRide: Double
    }

    /// The promised orders of a courier seen as `view`, by the planner's rules: a promised order's deadline is its
    /// own, or its current projected drop-off if that is later already (an insertion may not make it later still),
    /// and likewise its ride limit. Also each one's projected drop-off and the route's travel before any insertion;
    /// nil when a promised leg is unreachable.
    func promisedTerms(_ view: PlanningView) -> (terms: [PromisedTerms], baseline: [OrderID: Double], cost: Double)? {
        var promisedOrders: [Int] = []
        var seen = Set<Int>()
        for stop in view.promised {
            let o = Int(stop.order.rawValue) - 1
            if seen.insert(o).inserted { promisedOrders.append(o) }
        }
        // The promised route's schedule by the planner's rules (same arithmetic, so the same figures).
        var baseline: [OrderID: Double] = [:]
        var t = view.availableAt, at = view.start, cost = 0.0
        var pickupStart: [Int: Double] = [:]
        let service = s.demand.serviceSeconds
        for stop in view.promised {
            let o = Int(stop.order.rawValue) - 1, node = location(stop)
            let leg = estimate(at, node) * view.pace
            guard leg.isFinite else { return nil }
            cost += leg
            let arrival = t + leg
            var start = arrival
            if stop.kind == .pickup {
                start = max(arrival, max(0, Double(orders[o].draw.readyMs - nowMs) / 1000)); pickupStart[o] = start
            } else {
                baseline[stop.order] = arrival
            }
            t = start + service; at = node
        }
        let terms = promisedOrders.map { o -> PromisedTerms in
            let d = orders[o].draw
            let deadline = max(min(Double(d.deadlineMs - nowMs) / 1000 - s.stacking.deadlineMarginSeconds,
                                   idealDropoff(o) + s.stacking.maxDelaySeconds),
                               baseline[OrderID(UInt64(o + 1))] ?? 0)
            var maxRide = s.demand.maxRideSeconds
            if let p = pickupStart[o], let drop = baseline[OrderID(UInt64(o + 1))] { maxRide = max(maxRide, drop - p) }
            return PromisedTerms(order: o, readyAt: max(0, Double(d.readyMs - nowMs) / 1000), deadline: deadline, maxRide: maxRide)
        }
        return (terms, baseline, cost)
    }

    /// A waiting order as the planner holds it: its deadline planned early and capped by the policy's delay
    /// promise, or none when `relaxDeadline` or when it cannot be met anyway (late beats never).
    func waitingTerms(_ o: Int, relaxDeadline: Bool) -> PromisedTerms {
        let d = orders[o].draw
        let deadline = min(Double(d.deadlineMs - nowMs) / 1000 - s.stacking.deadlineMarginSeconds,
                           idealDropoff(o) + s.stacking.maxDelaySeconds)
        return PromisedTerms(order: o, readyAt: max(0, Double(d.readyMs - nowMs) / 1000),
                             deadline: relaxDeadline || deadline <= 0 ? .infinity : deadline, maxRide: s.demand.maxRideSeconds)
    }

    /// The planning instance of courier `c`'s promised route plus, optionally, `extra`; times in seconds from
    /// `nowMs` (`promisedTerms`, `waitingTerms`). Returns the instance and each promised order's projected
    /// drop-off and the route's travel before any insertion.
    func instance(courier c: Int, view: PlanningView, extra: Int?, relaxDeadline: Bool)
        -> (PlanInstance, baseline: [OrderID: Double], baselineCost: Double)?
    {
        guard let (terms, baseline, cost) = promisedTerms(view) else { return nil }
        var nodes = NodeIndex()
        let start = nodes.index(view.start)
        let all = terms + (extra.map { [waitingTerms($0, relaxDeadline: relaxDeadline)] } ?? [])
        let planOrders = all.map { planOrder($0, &nodes) }
        let courier = PlanCourier(id: CourierID(UInt64(c + 1)), start: start, availableAt: view.availableAt,
                                  capacity: couriers[c].capacity, stops: view.promised)
        return (PlanInstance(locationCount: nodes.nodes.count, matrix: matrix(nodes.nodes, pace: view.pace), couriers: [courier], orders: planOrders),
                baseline, cost)
    }

    /// Graph nodes numbered as an instance's locations, in order of first use.
    struct NodeIndex {
        var nodes: [Int] = []
        var indexOf: [Int: Int] = [:]
        mutating func index(_ node: Int) -> Int {
            if let i = indexOf[node] { return i }
            indexOf[node] = nodes.count; nodes.append(node); return nodes.count - 1
        }
    }

    func planOrder(_ t: PromisedTerms, _ nodes: inout NodeIndex) -> PlanOrder {
        let d = orders[t.order].draw
        return PlanOrder(id: OrderID(UInt64(t.order + 1)), pickup: nodes.index(d.pickupNode), dropoff: nodes.index(d.dropoffNode),
                         readyAt: t.readyAt, deadline: t.deadline, maxRide: t.maxRide, service: s.demand.serviceSeconds)
    }

    /// The dispatcher's travel estimates between `nodes`, row-major, for a courier of `pace`.
    func matrix(_ nodes: [Int], pace: Double = 1) -> [Double] {
        let n = nodes.count
        var matrix = [Double](repeating: 0, count: n * n)
        for a in 0..<n { for b in 0..<n where a != b { matrix[a * n + b] = estimate(nodes[a], nodes[b]) * pace } }
        return matrix
    }

    /// Seconds from `nowMs` to order `o`'s ideal drop-off: food ready (or now), service, straight drive.
    func idealDropoff(_ o: Int) -> Double { idealDropoff(o, fromMs: nowMs) }

    /// Seconds from `fromMs` to order `o`'s ideal drop-off: food ready (or then), service, straight drive.
    func idealDropoff(_ o: Int, fromMs: Int64) -> Double {
        let d = orders[o].draw
        return max(0, Double(d.readyMs - fromMs) / 1000) + s.demand.serviceSeconds + estimate(d.pickupNode, d.dropoffNode)
    }

    /// The planner's cheapest feasible insertion of order `o` into courier `c`'s route, priced by the policy; nil
    /// when there is none.
    func price(courier c: Int, view: PlanningView, order o: Int, relaxDeadline: Bool) -> Insertion? {
        guard let (inst, baseline, baseCost) = instance(courier: c, view: view, extra: o, relaxDeadline: relaxDeadline)
        else { return nil }
        let id = OrderID(UInt64(o + 1))
        if !s.stacking.pricesEveryPosition {
            // The planner's travel-cheapest feasible insertion, then priced.
            guard let plan = try? RoutePlanner.plan(inst, options: RoutePlannerOptions(timeLimitMs: 1e9, maxIterations: 0)),
                  plan.unassigned.isEmpty, let route = plan.routes.first else { return nil }
            let stops = route.steps.map { PlanStop(order: $0.order, kind: $0.kind) }
            let arrivals = Dictionary(route.steps.filter { $0.kind == .dropoff }.map { ($0.order, $0.arrival) }) { a, _ in a }
            let (price, delay) = priceOf(travel: plan.cost - baseCost, drops: arrivals, order: o, baseline: baseline)
            return Insertion(courier: c, order: o, cost: price, delay: delay, stops: stops, relaxed: relaxDeadline)
        }
        // Every pickup and drop-off position, each schedule checked by the planner's rules and priced by the policy:
        // the travel-cheapest insertion is not always the one that delays customers least.
        var best: Insertion?
        let promised = view.promised
        for i in 0...promised.count {
            for j in i...promised.count {
                var stops = promised
                stops.insert(PlanStop(order: id, kind: .dropoff), at: j)
                stops.insert(PlanStop(order: id, kind: .pickup), at: i)
                guard let (cost, drops) = Self.schedule(stops, in: inst) else { continue }
                let (base, delay) = priceOf(travel: cost - baseCost, drops: drops, order: o, baseline: baseline)
                let price = base + positionPrice(from: promised.last.map { location($0) } ?? view.start, to: location(stops[stops.count - 1]))
                if price < (best?.cost ?? .infinity) {
                    best = Insertion(courier: c, order: o, cost: price, delay: delay, stops: stops, relaxed: relaxDeadline)
                }
            }
        }
        return best
    }

    /// `positionWeight` × how much farther from the restaurants (their mean drive time, weighted by the orders
    /// each has had so far) the courier's route now ends: where a courier is left decides its next empty drive.
    func positionPrice(from old: Int, to new: Int) -> Double {
        let weight = s.stacking.positionWeight
        guard weight > 0, old != new else { return 0 }
        return weight * (distanceToDemand(new) - distanceToDemand(old))
    }

    /// Mean estimated drive from `node` to the restaurants, weighted by their orders so far (+1 each).
    func distanceToDemand(_ node: Int) -> Double {
        var sum = 0.0, total = 0.0
        for (r, at) in restaurantNodes.enumerated() {
            let w = Double(ordersByRestaurant[r] + 1), t = estimate(node, at)
            guard t.isFinite else { continue }
            sum += w * t; total += w
        }
        return total > 0 ? sum / total : 0
    }

    /// Added travel plus the delay weight × the delay of the new order beyond its ideal drop-off and of every order
    /// already on the route beyond its planned drop-off; and that delay.
    func priceOf(travel: Double, drops: [OrderID: Double], order o: Int, baseline: [OrderID: Double]) -> (price: Double, delay: Double) {
        var delay = 0.0
        for (id, arrival) in drops {
            if id == OrderID(UInt64(o + 1)) {
                delay += max(0, arrival - idealDropoff(o))
            } else if let before = baseline[id] {
                delay += max(0, arrival - before)
            }
        }
        return (travel + delayWeight * delay, delay)
    }

    /// The weight of one second of delivery delay in an insertion's price: the controller's when the policy has a
    /// delay budget, else the fixed `delayWeight`.
    var delayWeight: Double { delayPrice?.weight ?? s.stacking.delayWeight }

    /// Order `o`'s ideal delivery time: created → food ready (never before creation), service, straight drive.
    func idealDeliverySeconds(_ o: Int) -> Double { idealDropoff(o, fromMs: orders[o].draw.createdMs) }

    /// Travel seconds and drop-off arrivals of the instance's only courier visiting `stops` in order, by the
    /// planner's rules (docs/dispatch.md); nil when a leg is unreachable or capacity, a ready time, a deadline or a
    /// maximum ride is broken.
    static func schedule(_ stops: [PlanStop], in inst: PlanInstance) -> (Double, [OrderID: Double])? {
        guard let courier = inst.couriers.first else { return nil }
        var byID: [OrderID: PlanOrder] = [:]
        for order in inst.orders { byID[order.id] = order }
        let picked = Set(stops.filter { $0.kind == .pickup }.map(\.order))
        var load = stops.filter { $0.kind == .dropoff && !picked.contains($0.order) }.count
        var t = courier.availableAt, at = courier.start, cost = 0.0
        var pickupStart: [OrderID: Double] = [:], drops: [OrderID: Double] = [:]
        for stop in stops {
            guard let order = byID[stop.order] else { return nil }
            let node = stop.kind == .pickup ? order.pickup : order.dropoff
            let leg = inst.travel(at, node)
            guard leg.isFinite else { return nil }
            cost += leg
            let arrival = t + leg
            var start = arrival
            if stop.kind == .pickup {
                start = max(arrival, order.readyAt)
                pickupStart[stop.order] = start
                load += 1
                if load > courier.capacity { return nil }
            } else {
                if arrival > order.deadline { return nil }
                if let p = pickupStart[stop.order], arrival - p > order.maxRide { return nil }
                drops[stop.order] = arrival
                load -= 1
            }
            t = start + order.service; at = node
        }
        return (cost, drops)
    }

    /// Applies an accepted insertion and checks the committed route with the planner.
    mutating func commit(_ ins: Insertion, view: PlanningView) {
        let c = ins.courier, o = ins.order
        // The planner keeps promised stops in order and adds the new order's two.
        let kept = ins.stops.filter { Int($0.order.rawValue) - 1 != o }
        guard kept == view.promised else { orders[o].status = .waiting; return }
        let wasIdle = couriers[c].stops.isEmpty
        couriers[c].stops = Array(couriers[c].stops.prefix(wasIdle ? 0 : 1)) + ins.stops
        orders[o].status = .assigned
        couriers[c].assignments += 1
        let ideal = idealDeliverySeconds(o)
        delayPrice?.record(delaySeconds: ins.delay, idealDeliverySeconds: ideal)
        report.routeChecks += 1
        let after = PlanningView(start: view.start, availableAt: view.availableAt, promised: ins.stops, pace: view.pace)
        if let (check, _, _) = instance(courier: c, view: after, extra: nil, relaxDeadline: ins.relaxed) {
            // Every stop promised: the planner throws when it cannot keep them (capacity, ready times, deadlines,
            // maximum ride). The new order's deadline is re-applied as it was priced.
            var strict = check
            if !ins.relaxed, let k = strict.orders.firstIndex(where: { $0.id == OrderID(UInt64(o + 1)) }) {
                let deadline = min(Double(orders[o].draw.deadlineMs - nowMs) / 1000 - s.stacking.deadlineMarginSeconds,
                                   idealDropoff(o) + s.stacking.maxDelaySeconds)
                if deadline > 0 { strict.orders[k].deadline = deadline }
                strict.orders[k].maxRide = s.demand.maxRideSeconds
            }
            if (try? RoutePlanner.plan(strict, options: RoutePlannerOptions(timeLimitMs: 1e9, maxIterations: 0))) == nil {
                report.routeCheckFailures += 1
            }
        } else {
            report.routeCheckFailures += 1
        }
        if wasIdle { startLeg(c) }
    }

    mutating func stackedRound(_ waiting: [Int]) {
        let lead = Int64(s.stacking.holdLeadSeconds * 1000)
        let due = waiting.filter { orders[$0].draw.readyMs - nowMs <= lead }
        guard !due.isEmpty else { return }
        let free = couriers.indices.filter { !couriers[$0].offerPending && couriers[$0].capacity > 0 }
        guard !free.isEmpty else { return }
        var views: [Int: PlanningView] = [:]
        for c in free { views[c] = planningView(c) }
        for c in free { for o in due { travel.want(views[c]!.start, orders[o].draw.pickupNode) } }
        travel.fetchPending()
        // Candidates: the couriers that could reach the restaurant soonest.
        var candidates: [[Int]] = []
        for o in due {
            let pickup = orders[o].draw.pickupNode, id = OrderID(UInt64(o + 1))
            let ranked = free.filter { !excluded.contains(OfferPair(order: id, courier: CourierID(UInt64($0 + 1)))) }
                .map { c -> (Double, Int) in (views[c]!.availableAt + estimate(views[c]!.start, pickup) * views[c]!.pace, c) }
                .sorted { $0 < $1 }
            // The nearest idle couriers and, separately, the nearest busy ones: busy couriers at a restaurant
            // would otherwise crowd out every idle one at the peak.
            let idle = ranked.filter { couriers[$0.1].stops.isEmpty }.prefix(s.stacking.candidatesPerOrder)
            let busy = ranked.filter { !couriers[$0.1].stops.isEmpty }.prefix(s.stacking.busyCandidatesPerOrder)
            candidates.append((idle + busy).map(\.1))
        }
        // Fetch every pair the small instances read, in one batch.
        for (k, o) in due.enumerated() {
            let d = orders[o].draw
            for c in candidates[k] {
                let v = views[c]!
                let nodes = [v.start, d.pickupNode, d.dropoffNode] + v.promised.map { location($0) }
                for a in nodes { for b in nodes where a != b { travel.want(a, b) } }
                if s.stacking.positionWeight > 0 {
                    for a in [v.start, d.dropoffNode] + v.promised.suffix(1).map({ location($0) }) {
                        for r in restaurantNodes { travel.want(a, r) }
                    }
                }
            }
        }
        travel.fetchPending()
        var planned = Set<Int>()
        if s.stacking.planIterationsPerOrder > 0 {
            planned = planRound(due: due, candidates: candidates, views: views)
        }
        var rows: [[(col: Int, cost: Double)]] = []
        var priced: [[Insertion]] = []
        var rowOrders: [Int] = []
        for (k, o) in due.enumerated() where !planned.contains(o) {
            var found: [Insertion] = []
            for c in candidates[k] where !couriers[c].offerPending {
                if let ins = price(courier: c, view: views[c]!, order: o, relaxDeadline: false) { found.append(ins) }
            }
            if found.isEmpty {
                // Nobody can make the deadline: late beats never.
                for c in candidates[k] where !couriers[c].offerPending {
                    if let ins = price(courier: c, view: views[c]!, order: o, relaxDeadline: true) { found.append(ins) }
                }
            }
            guard !found.isEmpty else { continue }
            rows.append(found.map { (col: $0.courier, cost: $0.cost) })
            priced.append(found)
            rowOrders.append(o)
        }
        guard !rowOrders.isEmpty else { return }
        // One exact matching: each courier at most one new order, every order served if it can be, an unserved
        // option per order priced above any insertion.
        let cols = couriers.count + rowOrders.count
        for r in rows.indices { rows[r].append((col: couriers.count + r, cost: 1e9)) }
        guard let matrix = try? SparseCostMatrix(rows: rowOrders.count, cols: cols, entries: rows),
              let matching = try? LinearAssignment.solve(matrix) else { return }
        var matched: [Insertion] = []
        for (r, col) in matching.columnForRow.enumerated() where col >= 0 && col < couriers.count {
            guard let ins = priced[r].first(where: { $0.courier == col }) else { continue }
            matched.append(ins)
        }
        let deferred = s.stacking.defersForStacks ? ordersToDefer(matched, views: views) : []
        for ins in matched where !deferred.contains(ins.order) { offer(order: ins.order, courier: ins.courier) }
    }

    /// The round's matched orders that would stack far more cheaply behind another matched order, on that order's
    /// courier, than where the matching put them: they wait one round, when that courier is a candidate with the
    /// other order promised. One courier gives each new order at most one per round, so without this two orders
    /// from one restaurant due in the same round always leave on two couriers. Each anchor (an order that is
    /// offered) holds back at most one order; an order held back never anchors another.
    func ordersToDefer(_ matched: [Insertion], views: [Int: PlanningView]) -> Set<Int> {
        var deferred = Set<Int>(), anchors = Set<Int>()
        let waitPrice = delayWeight * s.stacking.batchingWindowSeconds
        for a in matched where !deferred.contains(a.order) {
            guard let view = views[a.courier] else { continue }
            let after = PlanningView(start: view.start, availableAt: view.availableAt, promised: a.stops, pace: view.pace)
            var best: (order: Int, gain: Double)?
            for b in matched where b.order != a.order && b.courier != a.courier
                && !deferred.contains(b.order) && !anchors.contains(b.order) {
                guard let behind = price(courier: a.courier, view: after, order: b.order, relaxDeadline: b.relaxed) else { continue }
                let gain = b.cost - behind.cost - waitPrice - s.stacking.deferMarginSeconds
                if gain > (best?.gain ?? 0) { best = (b.order, gain) }
            }
            if let best { deferred.insert(best.order); anchors.insert(a.order) }
        }
        return deferred
    }

    /// Plans the round's due orders jointly with `RoutePlanner` (cheapest insertions by exact assignment, then ruin
    /// and recreate for `planIterationsPerOrder` × due orders iterations) over their candidate couriers' promised
    /// routes, and offers each courier the first new order of its planned route. Several due orders may share a
    /// courier in the plan (two from one restaurant); the rest wait for the next round, where that courier is a
    /// candidate with the first one promised. Returns the orders the plan placed (offered now or held for the next
    /// round); orders it leaves out (a deadline nobody can meet) go to the one-order matching.
    mutating func planRound(due: [Int], candidates: [[Int]], views: [Int: PlanningView]) -> Set<Int> {
        var courierSet = Set<Int>()
        for list in candidates { courierSet.formUnion(list) }
        let roundCouriers = courierSet.sorted()
        var nodes = NodeIndex()
        var planCouriers: [PlanCourier] = [], planOrders: [PlanOrder] = []
        for c in roundCouriers {
            guard let view = views[c], let (terms, _, _) = promisedTerms(view) else { continue }
            let start = nodes.index(view.start)
            planOrders += terms.map { planOrder($0, &nodes) }
            planCouriers.append(PlanCourier(id: CourierID(UInt64(c + 1)), start: start, availableAt: view.availableAt,
                                            capacity: couriers[c].capacity, stops: view.promised))
        }
        for o in due { planOrders.append(planOrder(waitingTerms(o, relaxDeadline: false), &nodes)) }
        for a in nodes.nodes { for b in nodes.nodes where a != b { travel.want(a, b) } }
        travel.fetchPending()
        let instance = PlanInstance(locationCount: nodes.nodes.count, matrix: matrix(nodes.nodes), couriers: planCouriers, orders: planOrders)
        let options = RoutePlannerOptions(timeLimitMs: 1e9, maxIterations: s.stacking.planIterationsPerOrder * due.count,
                                          seed: UInt64(nowMs - s.startMs))
        guard let plan = try? RoutePlanner.plan(instance, options: options) else { return [] }
        let dueSet = Set(due)
        var placed = Set<Int>()
        for route in plan.routes {
            let c = Int(route.courier.rawValue) - 1
            var offeredHere = couriers[c].offerPending
            for step in route.steps where step.kind == .pickup && dueSet.contains(Int(step.order.rawValue) - 1) {
                // A declined pair goes to the matching, which never offers it again.
                if excluded.contains(OfferPair(order: step.order, courier: route.courier)) { continue }
                let o = Int(step.order.rawValue) - 1
                placed.insert(o)
                if !offeredHere { offer(order: o, courier: c); offeredHere = true }
            }
        }
        return placed
    }
}

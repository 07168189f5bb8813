import Dispatcher
import Vocabulary

/// The optimum of a tiny planning instance by exhaustive search: every split of the free orders among couriers
/// (or none), every visiting order per courier that keeps precedence and promised stops. Written independently of
/// the planner; exponential, for ≤ 2 couriers × ≤ 4 orders.
enum BruteForceRoutePlanner {
    /// (orders served, total travel) of the best plan, or nil when the promised stops themselves are infeasible.
    static func optimum(_ instance: PlanInstance) -> (served: Int, cost: Double)? {
        let promised = Set(instance.couriers.flatMap { $0.stops.map(\.order) })
        let free = instance.orders.indices.filter { !promised.contains(instance.orders[$0].id) }
        // Best cost of each courier for each subset of free orders (bit k = free[k]).
        var bestFor = [[Double]]()
        for courier in instance.couriers {
            var row = [Double](repeating: .infinity, count: 1 << free.count)
            for mask in 0..<(1 << free.count) {
                let extra = (0..<free.count).filter { mask & (1 << $0) != 0 }.map { free[$0] }
                row[mask] = bestRoute(instance, courier, extra: extra)
            }
            if row[0] == .infinity { return nil }
            bestFor.append(row)
        }
        var best: (served: Int, cost: Double) = (-1, .infinity)
        // Each free order goes to courier c (0..<C) or nowhere (C).
        let c = instance.couriers.count
        var choice = [Int](repeating: 0, count: free.count)
        func visit(_ k: Int) {
            if k == free.count {
                var masks = [Int](repeating: 0, count: c)
                var served = 0
                for (i, who) in choice.enumerated() where who < c { masks[who] |= 1 << i; served += 1 }
                var cost = 0.0
                for r in 0..<c { cost += bestFor[r][masks[r]] }
                guard cost < .infinity else { return }
                if served > best.served || (served == best.served && cost < best.cost) { best = (served, cost) }
                return
            }
            for who in 0...c { choice[k] = who; visit(k + 1) }
        }
        visit(0)
        return (best.served + promised.count, best.cost)
    }

    /// Cheapest feasible route of `courier` through its promised stops plus `extra` orders; ∞ when none.
    static func bestRoute(_ instance: PlanInstance, _ courier: PlanCourier, extra: [Int]) -> Double {
        let n = instance.locationCount
        let orders = instance.orders
        var index = [OrderID: Int]()
        for (i, o) in orders.enumerated() { index[o.id] = i }
        let promisedPickups = Set(courier.stops.filter { $0.kind == .pickup }.map(\.order))
        var onBoard = 0
        for s in courier.stops where s.kind == .dropoff && !promisedPickups.contains(s.order) { onBoard += 1 }
        if onBoard > courier.capacity { return .infinity }
        var best = Double.infinity
        var pickedAt = [Int: Double]()   // order index -> pickup start
        var pickedExtra = Set<Int>(), droppedExtra = Set<Int>()
        func step(_ promisedNext: Int, _ t: Double, _ loc: Int, _ load: Int, _ cost: Double) {
            if cost >= best { return }
            if promisedNext == courier.stops.count && droppedExtra.count == extra.count { best = cost; return }
            func go(_ o: Int, pickup: Bool, then: (Double, Int, Int, Double) -> Void) {
                let order = orders[o]
                let target = pickup ? order.pickup : order.dropoff
                let travel = instance.matrix[loc * n + target]
                guard travel.isFinite else { return }
                let arrival = t + travel
                if pickup {
                    guard load + 1 <= courier.capacity else { return }
                    let start = max(arrival, order.readyAt)
                    pickedAt[o] = start
                    then(start + order.service, target, load + 1, cost + travel)
                    pickedAt[o] = nil
                } else {
                    guard arrival <= order.deadline else { return }
                    if let s = pickedAt[o], arrival - s > order.maxRide { return }
                    let saved = pickedAt[o]
                    then(arrival + order.service, target, load - 1, cost + travel)
                    pickedAt[o] = saved
                }
            }
            if promisedNext < courier.stops.count, let o = index[courier.stops[promisedNext].order] {
                go(o, pickup: courier.stops[promisedNext].kind == .pickup) { step(promisedNext + 1, $0, $1, $2, $3) }
            }
            for o in extra {
                if !pickedExtra.contains(o) {
                    pickedExtra.insert(o)
                    go(o, pickup: true) { step(promisedNext, $0, $1, $2, $3) }
                    pickedExtra.remove(o)
                } else if !droppedExtra.contains(o) {
                    droppedExtra.insert(o)
                    go(o, pickup: false) { step(promisedNext, $0, $1, $2, $3) }
                    droppedExtra.remove(o)
                }
            }
        }
        step(0, courier.availableAt, courier.start, onBoard, 0)
        return best
    }
}

import Dispatcher
import Vocabulary

/// An independent check of a `RoutePlan` against its instance, written from the issue's rules rather than from the
/// planner's code: it recomputes every schedule and returns each broken rule as a sentence (empty = valid).
enum PlanChecker {
    static func violations(_ plan: RoutePlan, _ instance: PlanInstance) -> [String] {
        var problems = [String]()
        let n = instance.locationCount
        func leg(_ a: Int, _ b: Int) -> Double { instance.matrix[a * n + b] }
        var orderByID = [OrderID: PlanOrder]()
        for o in instance.orders { orderByID[o.id] = o }
        guard plan.routes.count == instance.couriers.count else {
            return ["\(plan.routes.count) routes for \(instance.couriers.count) couriers"]
        }
        var seenPickups = Set<OrderID>(), seenDropoffs = Set<OrderID>()
        var total = 0.0
        for (route, courier) in zip(plan.routes, instance.couriers) {
            if route.courier != courier.id { problems.append("route for \(route.courier) where \(courier.id) was expected") }
            // Promised stops: a subsequence of the route, in order.
            var next = 0
            for step in route.steps where next < courier.stops.count {
                let promised = courier.stops[next]
                if promised.order == step.order && promised.kind == step.kind { next += 1 }
            }
            if next != courier.stops.count { problems.append("courier \(courier.id): promised stops not kept in order") }
            let promisedPickups = Set(courier.stops.filter { $0.kind == .pickup }.map(\.order))
            let onBoard = Set(courier.stops.filter { $0.kind == .dropoff }.map(\.order)).subtracting(promisedPickups)
            var load = onBoard.count
            if load > courier.capacity { problems.append("courier \(courier.id): starts over capacity") }
            var t = courier.availableAt, loc = courier.start
            var pickupStart = [OrderID: Double]()
            for step in route.steps {
                guard let order = orderByID[step.order] else { problems.append("unknown order \(step.order)"); continue }
                let target = step.kind == .pickup ? order.pickup : order.dropoff
                let travel = leg(loc, target)
                if !travel.isFinite { problems.append("courier \(courier.id): unreachable leg to order \(order.id)") }
                total += travel
                let arrival = t + travel
                let start = step.kind == .pickup ? max(arrival, order.readyAt) : arrival
                if step.arrival != arrival || step.start != start {
                    problems.append("courier \(courier.id) order \(order.id) \(step.kind): arrival/start \(step.arrival)/\(step.start), expected \(arrival)/\(start)")
                }
                if step.kind == .pickup {
                    if !seenPickups.insert(order.id).inserted { problems.append("order \(order.id) picked up twice") }
                    if step.start < order.readyAt { problems.append("order \(order.id) picked up before ready") }
                    pickupStart[order.id] = start
                    load += 1
                    if load > courier.capacity { problems.append("courier \(courier.id): over capacity at order \(order.id)") }
                } else {
                    if !seenDropoffs.insert(order.id).inserted { problems.append("order \(order.id) dropped twice") }
                    if let s = pickupStart[order.id] {
                        if arrival - s > order.maxRide { problems.append("order \(order.id): ride \(arrival - s) > \(order.maxRide)") }
                    } else if !onBoard.contains(order.id) {
                        problems.append("order \(order.id) dropped off before (or without) its pickup on courier \(courier.id)")
                    }
                    if arrival > order.deadline { problems.append("order \(order.id): late \(arrival) > \(order.deadline)") }
                    load -= 1
                }
                t = start + order.service; loc = target
            }
            for id in pickupStart.keys where !route.steps.contains(where: { $0.order == id && $0.kind == .dropoff }) {
                problems.append("order \(id) picked up but never dropped off")
            }
        }
        let unassigned = Set(plan.unassigned)
        for order in instance.orders {
            let served = seenDropoffs.contains(order.id)
            if served == unassigned.contains(order.id) {
                problems.append("order \(order.id) is \(served ? "both served and unassigned" : "neither served nor unassigned")")
            }
        }
        if unassigned.count != plan.unassigned.count { problems.append("an order is listed twice in unassigned") }
        if abs(total - plan.cost) > 1e-6 * max(1, total) { problems.append("cost \(plan.cost), sum of legs \(total)") }
        return problems
    }
}

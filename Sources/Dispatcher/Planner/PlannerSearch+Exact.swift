/// Exhaustive search for tiny instances, where the heuristic's answer should be the optimum and can miss it: on
/// matrices that break the triangle inequality (hand-made instances, `null` legs) a detour can shorten a route, so
/// an order may only fit beside another one, and ruin-and-recreate finds such pairs late.
extension PlannerSearch {
    /// Tries every placement of the free orders (unserved, or pickup and drop-off at any positions of any route,
    /// promised stops kept in order) and keeps the best plan: most orders served, then least travel. Returns false,
    /// with the search state unchanged, when the placements would exceed `maxPlacements` (the caller then searches
    /// heuristically).
    mutating func solveExactly(maxPlacements: Int) -> Bool {
        let free = (0..<orderCount).filter { !fixedOrder[$0] && routeOf[$0] < 0 }
        guard !free.isEmpty, !routes.isEmpty else { return false }
        // An upper bound on the placements (each order may join any route, each grown by every earlier order):
        // instances far past the budget go to the heuristic at once instead of spending the budget first.
        var bound = 1.0, grown = 0
        for _ in free {
            var ways = 1.0
            for route in routes { let l = Double(route.nodes.count + grown); ways += (l + 1) * (l + 2) / 2 }
            bound *= ways
            grown += 2
            if bound > Double(maxPlacements) * 64 { return false }
        }
        let original = routes
        var exact = ExactState(nodes: routes.map(\.nodes), budget: maxPlacements)
        place(free, 0, served: 0, &exact)
        routes = original
        for r in routes.indices { evaluate(r) }
        guard !exact.exhausted, let best = exact.bestNodes else { return false }
        totalCost = 0
        for r in routes.indices {
            routes[r].nodes = best[r]
            evaluate(r)
            totalCost += routes[r].cost
            for node in best[r] { routeOf[Int(node >> 1)] = Int32(r) }
        }
        unservedCount = routeOf.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        recordBest()
        return true
    }

    private mutating func place(_ free: [Int], _ k: Int, served: Int, _ s: inout ExactState) {
        if s.exhausted { return }
        s.visited += 1
        if s.visited > s.budget { s.exhausted = true; return }
        if k == free.count {
            var cost = 0.0
            for r in routes.indices {
                routes[r].nodes = s.nodes[r]
                guard evaluate(r) else { return }
                cost += routes[r].cost
            }
            if served > s.bestServed || (served == s.bestServed && cost < s.bestCost) {
                s.bestServed = served; s.bestCost = cost; s.bestNodes = s.nodes
            }
            return
        }
        let o = free[k]
        for r in s.nodes.indices where courierCap[r] > 0 {
            let count = s.nodes[r].count
            for i in 0...count {
                for j in i...count {
                    s.nodes[r].insert(Int32(2 * o), at: i)
                    s.nodes[r].insert(Int32(2 * o + 1), at: j + 1)
                    routes[r].nodes = s.nodes[r]
                    if evaluate(r) || mayBecomeFeasible(r) {
                        place(free, k + 1, served: served + 1, &s)
                    }
                    s.nodes[r].remove(at: j + 1)
                    s.nodes[r].remove(at: i)
                    if s.exhausted { return }
                }
            }
        }
        place(free, k + 1, served: served, &s)
    }

    /// Whether route `r` (as last evaluated, infeasible) may still become feasible as orders are added: load only
    /// grows, so a route over capacity stays over; on a metric matrix arrivals only grow too, so a missed deadline
    /// stays missed. (A ride limit can heal: a later pickup start may be absorbed by a wait before the drop-off.)
    private func mayBecomeFeasible(_ r: Int) -> Bool {
        let route = routes[r]
        if courierInitLoad[r] > courierCap[r] || route.load.contains(where: { Int($0) > courierCap[r] }) { return false }
        guard metric else { return true }
        for (k, node) in route.nodes.enumerated() where route.arrival[k] > nodeDeadline[Int(node)] { return false }
        return true
    }
}

/// The exhaustive search's working state: the routes being built, the best found, and the placement budget.
struct ExactState {
    var nodes: [[Int32]]
    let budget: Int
    var visited = 0
    var exhausted = false
    var bestServed = -1
    var bestCost = Double.infinity
    var bestNodes: [[Int32]]?
}

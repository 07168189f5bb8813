#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Vocabulary

extension PlannerSearch {
    /// Ruin and recreate under simulated annealing until a budget runs out; keeps the best plan seen.
    ///
    /// Each iteration removes a group of orders (related to a random seed order, whole routes near it, or at
    /// random), reinserts them and every unserved order greedily in a random or urgency order with blinks, and
    /// keeps the result if it serves more orders, or as many at a cost below the current one plus the annealing
    /// allowance `−T·ln(U)`. T falls geometrically from about one average leg to a hundredth of it.
    mutating func improve(options: RoutePlannerOptions, clock: ContinuousClock, started: ContinuousClock.Instant) {
        let movable = (0..<orderCount).filter { !fixedOrder[$0] }
        guard !movable.isEmpty, !routes.isEmpty else { return }
        // Clamped so that no option value (NaN, ∞, 1e300) can overflow Duration's arithmetic.
        let budgetMs = options.timeLimitMs.isNaN ? 0 : min(max(0, options.timeLimitMs), 1e12)
        let budget = Duration.milliseconds(budgetMs)
        let servedStops = max(1, 2 * (orderCount - unservedCount))
        let averageLeg = max(1, totalCost / Double(servedStops))
        let t0 = 0.5 * averageLeg, tf = 0.005 * averageLeg
        let maxRemove = max(2, min(40, movable.count / 4 + 2))
        var stall = 0
        var iterations = 0
        var progress = 0.0
        var removed = [Int]()
        while iterations < options.maxIterations, stall < options.stallIterations {
            if iterations & 7 == 0 {
                let elapsed = clock.now - started
                if elapsed >= budget { break }
                let timeShare = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let budgetShare = Double(budget.components.seconds) + Double(budget.components.attoseconds) * 1e-18
                progress = budgetShare > 0 ? timeShare / budgetShare : 1
                if options.maxIterations < Int.max / 2 {
                    progress = max(progress, Double(iterations) / Double(options.maxIterations))
                }
            }
            iterations += 1
            iterationsRun = iterations
            let temperature = t0 * pow(tf / t0, min(1, progress))
            let costBefore = totalCost, unservedBefore = unservedCount

            beginIteration()
            removed.removeAll(keepingCapacity: true)
            ruin(movable: movable, maxRemove: maxRemove, into: &removed)
            recreate(removed)

            let better = unservedCount < unservedBefore
                || (unservedCount == unservedBefore && totalCost < costBefore - temperature * log(max(rng.unit(), 1e-300)))
            if better {
                if unservedCount < bestUnserved || (unservedCount == bestUnserved && totalCost < bestCost - 1e-9) {
                    recordBest()
                    stall = 0
                } else {
                    stall += 1
                }
            } else {
                undoIteration(cost: costBefore, unserved: unservedBefore)
                stall += 1
            }
        }
        restoreBest()
    }

    private mutating func restoreBest() {
        routes = bestRoutes
        totalCost = bestCost
        unservedCount = bestUnserved
        for o in 0..<orderCount { routeOf[o] = -1 }
        for r in 0..<routes.count {
            for (k, node) in routes[r].nodes.enumerated() {
                routeOf[Int(node >> 1)] = Int32(r)
                if node & 1 == 0 { pickupStart[Int(node >> 1)] = routes[r].start[k] }
            }
        }
    }

    private mutating func ruin(movable: [Int], maxRemove: Int, into removed: inout [Int]) {
        let target = 1 + rng.below(maxRemove)
        let seed = movable[rng.below(movable.count)]
        let kind = rng.below(8)
        if kind < 5 {
            // Related: the seed and its nearest orders (Shaw removal).
            if remove(seed) { removed.append(seed) }
            for b in neighbors[seed] {
                if removed.count >= target { break }
                let o = Int(b)
                if rng.unit() < 0.2 { continue }
                if routeOf[o] >= 0, remove(o) { removed.append(o) }
            }
        } else if kind < 7 {
            // Routes: every movable order of the routes serving the seed's nearest orders.
            var routesTaken = Set<Int32>()
            var candidates = [Int32(seed)] + neighbors[seed]
            if candidates.count > 12 { candidates = Array(candidates.prefix(12)) }
            for b in candidates {
                if removed.count >= target || routesTaken.count >= 2 { break }
                let r = routeOf[Int(b)]
                guard r >= 0, routesTaken.insert(r).inserted else { continue }
                let orders = Set(routes[Int(r)].nodes.map { Int($0 >> 1) })
                for o in orders.sorted() where !fixedOrder[o] {
                    if remove(o) { removed.append(o) }
                }
            }
        } else {
            for _ in 0..<target {
                let o = movable[rng.below(movable.count)]
                if routeOf[o] >= 0, remove(o) { removed.append(o) }
            }
        }
    }

    private mutating func recreate(_ removed: [Int]) {
        var pending = removed
        if unservedCount > removed.count {
            for o in 0..<orderCount where routeOf[o] == -1 && !removed.contains(o) { pending.append(o) }
        }
        switch rng.below(10) {
        case 0..<5:
            pending.shuffle(using: &rng)
        case 5..<8:
            // Most urgent first: earliest deadline, then earliest ready time.
            pending.sort {
                let a = (nodeDeadline[2 * $0 + 1], nodeReady[2 * $0]), b = (nodeDeadline[2 * $1 + 1], nodeReady[2 * $1])
                return a < b || (a == b && $0 < $1)
            }
        default:
            // Longest trips first.
            pending.sort {
                let a = travel.seconds(nodeLoc[2 * $0], nodeLoc[2 * $0 + 1]), b = travel.seconds(nodeLoc[2 * $1], nodeLoc[2 * $1 + 1])
                return a > b || (a == b && $0 < $1)
            }
        }
        let blink = 0.01
        for o in pending {
            var best = Double.infinity, bestR = -1, bestI = 0, bestJ = 0
            for r in 0..<routes.count {
                if let found = bestInsertion(o, route: r, bound: best, blink: blink) {
                    best = found.delta; bestR = r; bestI = found.i; bestJ = found.j
                }
            }
            if bestR >= 0 { insert(o, route: bestR, pickupAt: bestI, dropoffAt: bestJ) }
        }
    }

    /// The best plan as the answer: steps with their times, unserved orders in instance order, and the cost.
    func bestPlan() -> RoutePlan {
        var served = [Bool](repeating: false, count: orderCount)
        var plannedRoutes = [PlannedRoute]()
        plannedRoutes.reserveCapacity(bestRoutes.count)
        var cost = 0.0
        for (r, route) in bestRoutes.enumerated() {
            var steps = [PlannedStep]()
            steps.reserveCapacity(route.nodes.count)
            for (k, node) in route.nodes.enumerated() {
                let o = Int(node >> 1)
                served[o] = true
                steps.append(PlannedStep(order: instance.orders[o].id, kind: node & 1 == 0 ? .pickup : .dropoff,
                                         arrival: route.arrival[k], start: route.start[k]))
            }
            cost += route.cost
            plannedRoutes.append(PlannedRoute(courier: instance.couriers[r].id, steps: steps))
        }
        let unassigned = (0..<orderCount).filter { !served[$0] }.map { instance.orders[$0].id }
        return RoutePlan(routes: plannedRoutes, unassigned: unassigned, cost: cost, searchIterations: iterationsRun)
    }
}

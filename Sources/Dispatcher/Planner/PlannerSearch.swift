import Vocabulary

/// The route planner's working state: the instance flattened into arrays, the current and best solutions, and
/// scratch for exact insertion checks.
///
/// Schedule model (docs/dispatch.md): a courier leaves `start` at `availableAt` and each stop as soon as its
/// service ends; arrival = previous departure + matrix leg; service starts at max(arrival, ready time) for a pickup,
/// at the arrival for a drop-off; departure = start + service. A route is feasible when every leg is finite, the load
/// never exceeds the capacity, every drop-off arrives by its deadline and within `maxRide` of its pickup's start.
/// (An order already on board has no known pickup start, so only its deadline binds.)
struct PlannerSearch<Travel: TravelTimes> {
    let n: Int
    let travel: Travel
    let orderCount: Int
    let nodeLoc: [Int]
    let nodeReady: [Double]
    let nodeService: [Double]
    let nodeDeadline: [Double]
    let maxRide: [Double]
    let courierStart: [Int]
    let courierAvail: [Double]
    let courierCap: [Int]
    let courierInitLoad: [Int]
    let fixedOrder: [Bool]
    let onBoard: [Bool]
    let instance: PlanInstance

    var routes: [PlannerRoute]
    /// Route of each order, −1 when unserved.
    var routeOf: [Int32]
    /// Service start of each served order's pickup (meaningless for unserved or on-board orders).
    var pickupStart: [Double]
    var unservedCount: Int
    var totalCost: Double

    var bestRoutes: [PlannerRoute]
    var bestUnserved: Int
    var bestCost: Double

    /// Related orders for each order, nearest first (pickup-to-pickup plus drop-off-to-drop-off seconds).
    var neighbors: [[Int32]] = []
    var rng: SplitMix64
    /// Whether travel times obey the triangle inequality (checked exactly up to 300 locations, assumed beyond:
    /// road times from shortest paths do). Enables one pruning cut in `bestInsertion`.
    var metric = true
    /// Ruin-and-recreate iterations run by `improve`.
    var iterationsRun = 0

    /// Scratch pickup starts of trial schedules (`canInsert`, `insertedSchedule`), by order.
    var scratchStart: [Double]
    private var scratchStamp: [UInt32]
    private var stamp: UInt32 = 0
    // Undo log of one ruin-and-recreate iteration.
    private var savedRoutes: [(Int, PlannerRoute)] = []
    private var savedRouteOf: [(Int, Int32)] = []
    private var touchedIteration: [UInt32]
    private var iteration: UInt32 = 1

    /// A search over `instance`'s couriers and orders; travel times come from `travel`, not from
    /// `instance.matrix` (which may be empty). `buildNeighbors` is for the improvement phase only.
    init(_ instance: PlanInstance, travel: Travel, seed: UInt64, buildNeighbors wantNeighbors: Bool = true) throws(PlanInstanceError) {
        self.instance = instance
        self.travel = travel
        n = travel.locationCount
        orderCount = instance.orders.count
        var loc = [Int](repeating: 0, count: 2 * orderCount)
        var ready = [Double](repeating: 0, count: 2 * orderCount)
        var service = [Double](repeating: 0, count: 2 * orderCount)
        var deadline = [Double](repeating: .infinity, count: 2 * orderCount)
        var ride = [Double](repeating: .infinity, count: orderCount)
        var indexOf = [OrderID: Int]()
        for (o, order) in instance.orders.enumerated() {
            let path = "orders[\(o)]"
            guard indexOf.updateValue(o, forKey: order.id) == nil else { throw PlanInstanceError(path + ".id", "duplicate order id \(order.id)") }
            guard order.pickup >= 0, order.pickup < n else { throw PlanInstanceError(path + ".pickup", "location out of range") }
            guard order.dropoff >= 0, order.dropoff < n else { throw PlanInstanceError(path + ".dropoff", "location out of range") }
            guard order.readyAt.isFinite, order.readyAt >= 0 else { throw PlanInstanceError(path + ".ready_at", "expected a finite non-negative number") }
            guard order.service.isFinite, order.service >= 0 else { throw PlanInstanceError(path + ".service", "expected a finite non-negative number") }
            guard order.deadline >= 0 else { throw PlanInstanceError(path + ".deadline", "expected a non-negative number") }
            guard order.maxRide >= 0 else { throw PlanInstanceError(path + ".max_ride", "expected a non-negative number") }
            loc[2 * o] = order.pickup; loc[2 * o + 1] = order.dropoff
            ready[2 * o] = order.readyAt
            service[2 * o] = order.service; service[2 * o + 1] = order.service
            deadline[2 * o + 1] = order.deadline
            ride[o] = order.maxRide
        }
        nodeLoc = loc; nodeReady = ready; nodeService = service; nodeDeadline = deadline; maxRide = ride

        var fixed = [Bool](repeating: false, count: orderCount)
        var board = [Bool](repeating: false, count: orderCount)
        var starts = [Int](), avails = [Double](), caps = [Int](), initLoads = [Int]()
        var initialRoutes = [PlannerRoute]()
        var owner = [Int](repeating: -1, count: orderCount)
        var courierIDs = Set<CourierID>()
        for (k, courier) in instance.couriers.enumerated() {
            let path = "couriers[\(k)]"
            guard courierIDs.insert(courier.id).inserted else { throw PlanInstanceError(path + ".id", "duplicate courier id \(courier.id)") }
            guard courier.start >= 0, courier.start < n else { throw PlanInstanceError(path + ".start", "location out of range") }
            guard courier.availableAt.isFinite, courier.availableAt >= 0 else {
                throw PlanInstanceError(path + ".available_at", "expected a finite non-negative number")
            }
            guard courier.capacity >= 0 else { throw PlanInstanceError(path + ".capacity", "expected a non-negative integer") }
            var route = PlannerRoute()
            var seenPickup = Set<Int>(), seenDropoff = Set<Int>()
            for (s, stop) in courier.stops.enumerated() {
                let stopPath = "\(path).stops[\(s)]"
                guard let o = indexOf[stop.order] else { throw PlanInstanceError(stopPath + ".order", "unknown order \(stop.order)") }
                if owner[o] != -1, owner[o] != k {
                    throw PlanInstanceError(stopPath + ".order", "order \(stop.order) is already promised by couriers[\(owner[o])]")
                }
                owner[o] = k
                switch stop.kind {
                case .pickup:
                    guard seenPickup.insert(o).inserted else { throw PlanInstanceError(stopPath, "pickup of order \(stop.order) listed twice") }
                    guard !seenDropoff.contains(o) else { throw PlanInstanceError(stopPath, "pickup of order \(stop.order) comes after its drop-off") }
                    route.nodes.append(Int32(2 * o))
                case .dropoff:
                    guard seenDropoff.insert(o).inserted else { throw PlanInstanceError(stopPath, "drop-off of order \(stop.order) listed twice") }
                    route.nodes.append(Int32(2 * o + 1))
                }
                fixed[o] = true
            }
            for o in seenPickup where !seenDropoff.contains(o) {
                throw PlanInstanceError(path + ".stops", "order \(instance.orders[o].id) has a promised pickup but no drop-off")
            }
            var initLoad = 0
            for o in seenDropoff where !seenPickup.contains(o) { board[o] = true; initLoad += 1 }
            starts.append(courier.start); avails.append(courier.availableAt); caps.append(courier.capacity)
            initLoads.append(initLoad)
            initialRoutes.append(route)
        }
        fixedOrder = fixed; onBoard = board
        courierStart = starts; courierAvail = avails; courierCap = caps; courierInitLoad = initLoads
        routes = initialRoutes
        routeOf = owner.map { Int32($0) }
        pickupStart = [Double](repeating: 0, count: orderCount)
        scratchStart = [Double](repeating: 0, count: orderCount)
        scratchStamp = [UInt32](repeating: 0, count: orderCount)
        touchedIteration = [UInt32](repeating: 0, count: instance.couriers.count)
        rng = SplitMix64(seed: seed)
        unservedCount = owner.reduce(0) { $0 + ($1 == -1 ? 1 : 0) }
        totalCost = 0
        bestRoutes = []; bestUnserved = 0; bestCost = 0
        for r in 0..<routes.count {
            if !evaluate(r) {
                throw PlanInstanceError("couriers[\(r)].stops", "the promised stops cannot be kept: \(describeViolation(r))")
            }
            totalCost += routes[r].cost
        }
        if n <= 300 { metric = Self.isMetric(travel) }
        if wantNeighbors { buildNeighbors() }
        recordBest()
    }

    // MARK: - Schedules

    /// Recomputes route `r`'s schedule, load and cost, and its orders' pickup starts; false when it is infeasible.
    /// - Complexity: O(stops).
    @discardableResult
    mutating func evaluate(_ r: Int) -> Bool {
        let count = routes[r].nodes.count
        var route = routes[r]
        routes[r] = PlannerRoute()   // keeps the arrays uniquely referenced while they are rewritten
        route.arrival.removeAll(keepingCapacity: true)
        route.start.removeAll(keepingCapacity: true)
        route.load.removeAll(keepingCapacity: true)
        var t = courierAvail[r], loc = courierStart[r], load = courierInitLoad[r], cost = 0.0
        var feasible = load <= courierCap[r]
        for k in 0..<count {
            let node = Int(route.nodes[k]), order = node >> 1, nl = nodeLoc[node]
            let leg = travel.seconds(loc, nl, courier: r)
            if leg == .infinity { feasible = false }
            cost += leg
            let arrival = t + leg
            let start: Double
            if node & 1 == 0 {
                start = max(arrival, nodeReady[node])
                pickupStart[order] = start
                load += 1
                if load > courierCap[r] { feasible = false }
            } else {
                start = arrival
                if arrival > nodeDeadline[node] { feasible = false }
                if !onBoard[order], arrival - pickupStart[order] > maxRide[order] { feasible = false }
                load -= 1
            }
            route.arrival.append(arrival); route.start.append(start); route.load.append(Int32(load))
            t = start + nodeService[node]; loc = nl
        }
        route.cost = cost
        routes[r] = route
        return feasible
    }

    /// The first broken constraint of route `r`, for error messages (slow; not on the search path).
    func describeViolation(_ r: Int) -> String {
        let route = routes[r]
        var t = courierAvail[r], loc = courierStart[r], load = courierInitLoad[r]
        if load > courierCap[r] { return "\(load) orders on board exceed capacity \(courierCap[r])" }
        var starts = [Int: Double]()
        for k in 0..<route.nodes.count {
            let node = Int(route.nodes[k]), order = node >> 1, id = instance.orders[order].id
            let kind = node & 1 == 0 ? "pickup" : "drop-off"
            let leg = travel.seconds(loc, nodeLoc[node], courier: r)
            if leg == .infinity { return "stop \(k) (order \(id) \(kind)) is unreachable from the previous location" }
            let arrival = t + leg
            var start = arrival
            if node & 1 == 0 {
                start = max(arrival, nodeReady[node]); starts[order] = start; load += 1
                if load > courierCap[r] { return "stop \(k) (order \(id) pickup) exceeds capacity \(courierCap[r])" }
            } else {
                load -= 1
                if arrival > nodeDeadline[node] {
                    return "stop \(k) (order \(id) drop-off) arrives at \(arrival), after its deadline \(nodeDeadline[node])"
                }
                if let s = starts[order], arrival - s > maxRide[order] {
                    return "stop \(k) (order \(id) drop-off) ride \(arrival - s) s exceeds max_ride \(maxRide[order])"
                }
            }
            t = start + nodeService[node]; loc = nodeLoc[node]
        }
        return "infeasible"
    }

    /// Whether inserting order `o`'s pickup before stop `i` and its drop-off before stop `j` (j ≥ i; j == i puts
    /// the drop-off right after the pickup) keeps route `r` feasible. Simulates from stop `i`, and stops early once
    /// the schedule after the drop-off meets the old one again.
    /// - Complexity: O(stops after `i`).
    mutating func canInsert(_ o: Int, route r: Int, pickupAt i: Int, dropoffAt j: Int) -> Bool {
        let cap = courierCap[r]
        return routes[r].nodes.withUnsafeBufferPointer { nodes in
            routes[r].start.withUnsafeBufferPointer { oldStart in
                let count = nodes.count
                var t: Double, loc: Int, load: Int
                if i == 0 {
                    t = courierAvail[r]; loc = courierStart[r]; load = courierInitLoad[r]
                } else {
                    let prev = Int(nodes[i - 1])
                    t = oldStart[i - 1] + nodeService[prev]; loc = nodeLoc[prev]; load = Int(routes[r].load[i - 1])
                }
                stamp &+= 1
                if stamp == 0 {
                    for x in 0..<scratchStamp.count { scratchStamp[x] = 0 }
                    stamp = 1
                }
                var k = i, phase = 0
                var sawEarlier = false
                while true {
                    let node: Int
                    var old = false
                    if phase == 0 {
                        node = 2 * o; phase = 1
                    } else if phase == 1, k == j {
                        node = 2 * o + 1; phase = 2
                    } else if k < count {
                        node = Int(nodes[k]); old = true; k += 1
                    } else {
                        break
                    }
                    let nl = nodeLoc[node], order = node >> 1
                    let arrival = t + travel.seconds(loc, nl, courier: r)
                    if arrival == .infinity { return false }
                    let start: Double
                    if node & 1 == 0 {
                        start = max(arrival, nodeReady[node])
                        load += 1
                        if load > cap { return false }
                        scratchStamp[order] = stamp; scratchStart[order] = start
                    } else {
                        if arrival > nodeDeadline[node] { return false }
                        if !onBoard[order] {
                            let ps = scratchStamp[order] == stamp ? scratchStart[order] : pickupStart[order]
                            if arrival - ps > maxRide[order] { return false }
                        }
                        load -= 1
                        start = arrival
                    }
                    if old {
                        let was = oldStart[k - 1]
                        if start < was { sawEarlier = true }
                        // Same start as before, after both new stops, and never earlier on the way: the rest of
                        // the route runs exactly as before (loads too), so it stays feasible.
                        if phase == 2, start == was, !sawEarlier { return true }
                    }
                    t = start + nodeService[node]; loc = nl
                }
                return true
            }
        }
    }

    /// The cheapest feasible insertion of order `o` into route `r` whose added travel is below `bound`.
    /// `blink` is the probability of skipping a position (SISR's blinks; 0 for an exhaustive search).
    mutating func bestInsertion(_ o: Int, route r: Int, bound: Double, blink: Double = 0) -> (delta: Double, i: Int, j: Int)? {
        let p = 2 * o, d = 2 * o + 1
        let lp = nodeLoc[p], ld = nodeLoc[d]
        // An unreachable direct leg rules out the drop-off right after the pickup only: travel times need not obey
        // the triangle inequality (`null` legs, hand-made matrices), so the way there may pass other stops.
        let pd = travel.seconds(lp, ld, courier: r)
        let cap = courierCap[r]
        if cap <= 0 { return nil }
        var best = bound, bestI = -1, bestJ = -1
        let count = routes[r].nodes.count
        for i in 0...count {
            let loadBefore = i == 0 ? courierInitLoad[r] : Int(routes[r].load[i - 1])
            if loadBefore >= cap { continue }
            let prevLoc = i == 0 ? courierStart[r] : nodeLoc[Int(routes[r].nodes[i - 1])]
            let toP = travel.seconds(prevLoc, lp, courier: r)
            if toP == .infinity { continue }
            if i == count {
                let delta = toP + pd
                if delta < best, pd < .infinity, blink == 0 || rng.unit() >= blink, canInsert(o, route: r, pickupAt: i, dropoffAt: i) {
                    best = delta; bestI = i; bestJ = i
                }
                continue
            }
            let nextLoc = nodeLoc[Int(routes[r].nodes[i])]
            let base = travel.seconds(prevLoc, nextLoc, courier: r)
            let together = toP + pd + travel.seconds(ld, nextLoc, courier: r) - base
            if together < best, pd < .infinity, blink == 0 || rng.unit() >= blink, canInsert(o, route: r, pickupAt: i, dropoffAt: i) {
                best = together; bestI = i; bestJ = i
            }
            let pickupDelta = toP + travel.seconds(lp, nextLoc, courier: r) - base
            // Under the triangle inequality a drop-off detour adds ≥ 0, so nothing after this pickup can win.
            if metric, !(pickupDelta < best) { continue }
            var j = i + 1
            while j <= count {
                if Int(routes[r].load[j - 1]) >= cap { break }
                let prevJ = nodeLoc[Int(routes[r].nodes[j - 1])]
                var dropDelta = travel.seconds(prevJ, ld, courier: r)
                if j < count {
                    let nextJ = nodeLoc[Int(routes[r].nodes[j])]
                    dropDelta += travel.seconds(ld, nextJ, courier: r) - travel.seconds(prevJ, nextJ, courier: r)
                }
                let delta = pickupDelta + dropDelta
                if delta < best, blink == 0 || rng.unit() >= blink, canInsert(o, route: r, pickupAt: i, dropoffAt: j) {
                    best = delta; bestI = i; bestJ = j
                }
                j += 1
            }
        }
        return bestI >= 0 ? (best, bestI, bestJ) : nil
    }

    static func isMetric(_ travel: Travel) -> Bool {
        let n = travel.locationCount
        for k in 0..<n {
            for a in 0..<n {
                let ak = travel.seconds(a, k)
                if ak == .infinity { continue }
                for b in 0..<n where ak + travel.seconds(k, b) < travel.seconds(a, b) { return false }
            }
        }
        return true
    }

    // MARK: - Changes (logged for undo)

    private mutating func touch(_ r: Int) {
        if touchedIteration[r] != iteration {
            touchedIteration[r] = iteration
            savedRoutes.append((r, routes[r]))
        }
    }

    /// Inserts order `o` into route `r` at a position `canInsert` accepted.
    mutating func insert(_ o: Int, route r: Int, pickupAt i: Int, dropoffAt j: Int) {
        touch(r)
        savedRouteOf.append((o, routeOf[o]))
        totalCost -= routes[r].cost
        routes[r].nodes.insert(Int32(2 * o), at: i)
        routes[r].nodes.insert(Int32(2 * o + 1), at: j + 1)
        let feasible = evaluate(r)
        assert(feasible, "an insertion accepted by canInsert must leave the route feasible")
        totalCost += routes[r].cost
        routeOf[o] = Int32(r)
        unservedCount -= 1
    }

    /// Takes order `o` (not promised) out of its route; false (and nothing changed) when that would break the
    /// route, which can happen: an earlier pickup start lengthens a ride that a later wait used to absorb.
    mutating func remove(_ o: Int) -> Bool {
        let r = Int(routeOf[o])
        guard r >= 0, !fixedOrder[o] else { return false }
        let before = routes[r]
        let cost = before.cost
        var nodes = before.nodes
        nodes.removeAll { $0 >> 1 == Int32(o) }
        routes[r].nodes = nodes
        if !evaluate(r) {
            routes[r] = before
            evaluate(r)   // restores pickup starts
            return false
        }
        let after = routes[r]
        routes[r] = before
        touch(r)
        routes[r] = after
        totalCost += after.cost - cost
        savedRouteOf.append((o, routeOf[o]))
        routeOf[o] = -1
        unservedCount += 1
        return true
    }

    mutating func beginIteration() {
        savedRoutes.removeAll(keepingCapacity: true)
        savedRouteOf.removeAll(keepingCapacity: true)
        iteration &+= 1
        if iteration == 0 {
            for r in 0..<touchedIteration.count { touchedIteration[r] = 0 }
            iteration = 1
        }
    }

    mutating func undoIteration(cost: Double, unserved: Int) {
        for (r, route) in savedRoutes.reversed() { routes[r] = route }
        for (o, r) in savedRouteOf.reversed() { routeOf[o] = r }
        for (r, _) in savedRoutes {
            for (k, node) in routes[r].nodes.enumerated() where node & 1 == 0 {
                pickupStart[Int(node >> 1)] = routes[r].start[k]
            }
        }
        totalCost = cost
        unservedCount = unserved
    }

    mutating func recordBest() {
        bestRoutes = routes; bestUnserved = unservedCount; bestCost = totalCost
    }

    private mutating func buildNeighbors() {
        let m = orderCount
        let keep = min(max(m - 1, 0), 60)
        neighbors = []
        neighbors.reserveCapacity(m)
        var scored = [(Double, Int32)]()
        scored.reserveCapacity(m)
        for a in 0..<m {
            scored.removeAll(keepingCapacity: true)
            let pa = nodeLoc[2 * a], da = nodeLoc[2 * a + 1]
            for b in 0..<m where b != a {
                let pb = nodeLoc[2 * b], db = nodeLoc[2 * b + 1]
                let s = min(travel.seconds(pa, pb), travel.seconds(pb, pa)) + min(travel.seconds(da, db), travel.seconds(db, da))
                scored.append((s.isFinite ? s : .greatestFiniteMagnitude, Int32(b)))
            }
            scored.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            neighbors.append(scored.prefix(keep).map { $0.1 })
        }
    }

    // MARK: - Construction

    /// Round-based cheapest insertion: each round prices every unserved order's best insertion into every route
    /// and lets `LinearAssignment` pick at most one order per route, serving as many as possible, cheapest first.
    mutating func construct() {
        var candidates = (0..<orderCount).filter { routeOf[$0] == -1 }
        let routeCount = routes.count
        guard routeCount > 0 else { return }
        let unservedPrice = 1e12
        while !candidates.isEmpty {
            var entries = [[(col: Int, cost: Double)]]()
            var positions = [[Int: (Int, Int)]]()
            entries.reserveCapacity(candidates.count)
            var stillPossible = [Int]()
            for o in candidates {
                var row = [(col: Int, cost: Double)]()
                var where_ = [Int: (Int, Int)]()
                for r in 0..<routeCount {
                    if let found = bestInsertion(o, route: r, bound: .infinity) {
                        row.append((r, found.delta)); where_[r] = (found.i, found.j)
                    }
                }
                if row.isEmpty { continue }
                row.append((routeCount + stillPossible.count, unservedPrice))
                stillPossible.append(o)
                entries.append(row); positions.append(where_)
            }
            if stillPossible.isEmpty { break }
            let matching: Assignment
            do {
                let matrix = try SparseCostMatrix(rows: stillPossible.count, cols: routeCount + stillPossible.count, entries: entries)
                matching = try LinearAssignment.solve(matrix)
            } catch {
                // Every row has its private column, so a matching always exists; fall back to one greedy pick.
                let row = 0, o = stillPossible[0]
                if let (r, (i, j)) = positions[row].first { beginIteration(); insert(o, route: r, pickupAt: i, dropoffAt: j) }
                candidates = candidates.filter { $0 != o }
                continue
            }
            beginIteration()
            var served = Set<Int>()
            for (row, col) in matching.columnForRow.enumerated() where col >= 0 && col < routeCount {
                let o = stillPossible[row]
                guard let (i, j) = positions[row][col] else { continue }
                insert(o, route: col, pickupAt: i, dropoffAt: j)
                served.insert(o)
            }
            if served.isEmpty { break }
            // Orders with no insertion this round stay candidates: a stop added since may be the way to them (a
            // matrix without the triangle inequality can make a detour through another stop the only way).
            candidates = candidates.filter { !served.contains($0) }
        }
        recordBest()
    }
}

import Vocabulary

/// One dispatch round as a pure function of values: waiting orders, a courier snapshot, an ETA
/// provider, a policy and a config in; proposed pairs out. `Sendable`, so the loop can hand it to
/// a worker thread and apply the `DispatchPlan` when it comes back.
///
/// Steps: (1) per order, oldest first, candidates within a radius that widens with waiting time,
/// filtered by status, vehicle, free capacity, open offers and past declines; (2) one ETA matrix
/// call, candidate couriers × orders; (3) pricing by `DispatchCostModel`; (4) the policy.
public struct DispatchRound: Sendable {
    /// The waiting orders (any order; the round sorts them by age).
    public var orders: [WaitingOrder]
    /// An immutable courier snapshot to search.
    public var couriers: any CourierSource & Sendable
    /// Pickup travel times.
    public var eta: any ETAProvider
    /// Greedy or batch-optimal.
    public var policy: DispatchPolicy
    /// Radii, filters, caps and the cost model.
    public var config: DispatchConfig
    /// The round's clock (ms since the Unix epoch).
    public var nowMs: Int64
    /// Pairs never to propose (declined or expired offers): `OfferBook.excludedPairs`.
    public var excludedPairs: Set<OfferPair>
    /// Couriers that cannot take a new order now (open offer or busy): `OfferBook.busyCouriers`.
    public var busyCouriers: Set<CourierID>

    /// A round over values; see the properties.
    public init(
        orders: [WaitingOrder], couriers: any CourierSource & Sendable, eta: any ETAProvider,
        policy: DispatchPolicy, config: DispatchConfig = DispatchConfig(), nowMs: Int64,
        excludedPairs: Set<OfferPair> = [], busyCouriers: Set<CourierID> = []
    ) {
        self.orders = orders
        self.couriers = couriers
        self.eta = eta
        self.policy = policy
        self.config = config
        self.nowMs = nowMs
        self.excludedPairs = excludedPairs
        self.busyCouriers = busyCouriers
    }

    /// Candidate pairs of a round, priced: row `r` is `orders[r]` (arrival order), columns index `couriers`.
    struct PricedCandidates {
        var orders: [WaitingOrder]
        var couriers: [CourierSnapshot]
        var entries: [[(col: Int, cost: Double, eta: Double)]]
    }

    /// Runs the round.
    /// - Throws: `DispatchError` when the ETA provider fails or answers with the wrong shape.
    public func run() throws(DispatchError) -> DispatchPlan {
        let priced = try candidates()
        let pairCount = priced.entries.reduce(0) { $0 + $1.count }
        var chosen = [Int](repeating: -1, count: priced.orders.count)   // index into entries[r], or -1
        switch policy {
        case .greedyNearest:
            var taken = [Bool](repeating: false, count: priced.couriers.count)
            for (r, row) in priced.entries.enumerated() {
                var best = -1
                for (k, e) in row.enumerated() where !taken[e.col] {
                    if best < 0 || (e.cost, e.eta, priced.couriers[e.col].id)
                        < (row[best].cost, row[best].eta, priced.couriers[row[best].col].id)
                    {
                        best = k
                    }
                }
                if best >= 0 {
                    taken[row[best].col] = true
                    chosen[r] = best
                }
            }
        case .batchOptimal:
            let nOrders = priced.orders.count, nCouriers = priced.couriers.count
            var start = [0], cols = [Int32](), costs = [Double]()
            start.reserveCapacity(nOrders + 1)
            cols.reserveCapacity(pairCount + nOrders)
            costs.reserveCapacity(pairCount + nOrders)
            for (r, row) in priced.entries.enumerated() {
                for e in row {
                    cols.append(Int32(e.col))
                    costs.append(e.cost)
                }
                cols.append(Int32(nCouriers + r))   // this order's own "unassigned" column
                costs.append(config.unassignedPenalty)
                start.append(cols.count)
            }
            let matrix = SparseCostMatrix(
                unchecked: nOrders, cols: nCouriers + nOrders, rowStart: start, columns: cols, costs: costs)
            let solution: Assignment
            do { solution = try LinearAssignment.solve(matrix) } catch { throw .assignment(error) }
            for (r, col) in solution.columnForRow.enumerated() where col >= 0 && col < nCouriers {
                chosen[r] = priced.entries[r].firstIndex { $0.col == col } ?? -1
            }
        }
        var plan = DispatchPlan(
            assignments: [], unassigned: [], candidatePairCount: pairCount, candidateCourierCount: priced.couriers.count)
        for (r, order) in priced.orders.enumerated() {
            let k = chosen[r]
            if k < 0 {
                plan.unassigned.append(order.id)
            } else {
                let e = priced.entries[r][k]
                plan.assignments.append(
                    ProposedAssignment(order: order.id, courier: priced.couriers[e.col].id, pickupETASeconds: e.eta, cost: e.cost))
            }
        }
        return plan
    }

    /// Steps 1–3: candidates, one ETA matrix, prices.
    func candidates() throws(DispatchError) -> PricedCandidates {
        let sorted = orders.sorted { ($0.createdAtMs, $0.id) < ($1.createdAtMs, $1.id) }
        var columnOf: [CourierID: Int] = [:]
        var couriersOut: [CourierSnapshot] = []
        var lists: [[Int]] = []
        lists.reserveCapacity(sorted.count)
        let limit = max(0, config.maxCandidatesPerOrder)
        for order in sorted {
            var list: [Int] = []
            if order.pickup.isValid, limit > 0 {
                let waited = Double(nowMs - order.createdAtMs) / 1_000
                let found = couriers.candidates(
                    near: order.pickup, radiusMeters: config.searchRadiusMeters(waitedSeconds: waited),
                    statuses: config.candidateStatuses, vehicles: order.allowedVehicles,
                    limit: limit + min(busyCouriers.count + excludedPairs.count, 4 * limit))
                for c in found {
                    guard list.count < limit else { break }
                    guard config.candidateStatuses.contains(c.status), order.allowedVehicles.contains(c.vehicle),
                        c.capacityUnits >= order.sizeUnits, !busyCouriers.contains(c.id),
                        !excludedPairs.contains(OfferPair(order: order.id, courier: c.id))
                    else { continue }
                    let col: Int
                    if let known = columnOf[c.id] {
                        col = known
                    } else {
                        col = couriersOut.count
                        columnOf[c.id] = col
                        couriersOut.append(c)
                    }
                    if !list.contains(col) { list.append(col) }
                }
            }
            lists.append(list)
        }
        var entries = [[(col: Int, cost: Double, eta: Double)]](repeating: [], count: sorted.count)
        if !couriersOut.isEmpty {
            let sources = couriersOut.map(\.position), targets = sorted.map(\.pickup)
            let matrix: [Double]
            do { matrix = try eta.etaSeconds(from: sources, vehicles: couriersOut.map(\.vehicle), to: targets) } catch { throw .eta(error) }
            guard matrix.count == sources.count * targets.count else {
                throw .etaShape(expected: sources.count * targets.count, got: matrix.count)
            }
            let t = targets.count
            for (r, list) in lists.enumerated() {
                let order = sorted[r]
                for col in list {
                    let seconds = matrix[col * t + r]
                    guard seconds >= 0, seconds <= config.maxPickupETASeconds else { continue }   // also drops NaN, ∞
                    let cost = config.costModel.cost(etaSeconds: seconds, order: order, courier: couriersOut[col], nowMs: nowMs)
                    guard cost.isFinite else { continue }
                    entries[r].append((col, cost, seconds))
                }
            }
        }
        return PricedCandidates(orders: sorted, couriers: couriersOut, entries: entries)
    }
}

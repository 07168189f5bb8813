import Vocabulary

/// One dispatch round with stacking: every waiting order's cheapest feasible insertion into the current route of
/// each of its candidate couriers, then one exact matching (`LinearAssignment`, sparse) that gives each courier at
/// most one new order, serving as many orders as possible and then adding the least travel.
///
/// Couriers' current routes are their promised `stops` (an order on board is a drop-off without its pickup); the
/// waiting orders are the instance's orders that no courier has promised. Candidates of an order are the
/// `candidatesPerOrder` couriers whose start is the fewest seconds from its pickup.
public enum StackingRound {
    /// An offer to make: insert `order` into `courier`'s route, pickup before its stop `pickupAt`, drop-off before
    /// its stop `dropoffAt` (indices into the current route; equal when the drop-off follows the pickup).
    public struct Proposal: Sendable, Equatable {
        public var order: OrderID
        public var courier: CourierID
        public var pickupAt: Int
        public var dropoffAt: Int
        /// Travel the insertion adds, seconds.
        public var addedTravelSeconds: Double
    }

    /// The round's proposals, by order of the instance's waiting orders.
    /// - Throws: `PlanInstanceError` when the instance is invalid or a promised route is already infeasible.
    /// - Complexity: O(orders × couriers) to pick candidates, O(orders × candidates × route²) to price, one sparse
    ///   assignment of orders × (couriers + orders).
    public static func run<T: TravelTimes>(_ instance: PlanInstance, travel: T, candidatesPerOrder: Int = 30) throws(PlanInstanceError) -> [Proposal] {
        try run(instance, travel: travel, selection: travel, candidatesPerOrder: candidatesPerOrder)
    }

    /// The round with candidates chosen by `selection` (a cheap estimate over the same locations, e.g. straight
    /// lines, so that picking the nearest couriers reads no road times) and priced on `travel`; a pair in
    /// `excludedPairs` (a declined or expired offer) is never proposed.
    public static func run<T: TravelTimes, S: TravelTimes>(_ instance: PlanInstance, travel: T, selection: S, candidatesPerOrder: Int = 30,
                                                           excludedPairs: Set<OfferPair> = []) throws(PlanInstanceError) -> [Proposal] {
        var search = try PlannerSearch(instance, travel: travel, seed: 1, buildNeighbors: false)
        return search.stackingRound(candidatesPerOrder: candidatesPerOrder, selection: selection, excluded: excludedPairs)
    }
}

extension PlannerSearch {
    mutating func stackingRound<S: TravelTimes>(candidatesPerOrder: Int, selection: S, excluded: Set<OfferPair>) -> [StackingRound.Proposal] {
        let waiting = (0..<orderCount).filter { routeOf[$0] == -1 }
        let courierCount = routes.count
        guard !waiting.isEmpty, courierCount > 0 else { return [] }
        let k = max(1, min(candidatesPerOrder, courierCount))
        var entries = [[(col: Int, cost: Double)]]()
        var positions = [[(Int, Int, Int)]]()   // per row: (courier, i, j)
        entries.reserveCapacity(waiting.count)
        var heap = [(Double, Int)]()            // max-heap by seconds of the k nearest couriers so far
        heap.reserveCapacity(k + 1)
        var rowOrders = [Int]()
        for o in waiting {
            heap.removeAll(keepingCapacity: true)
            let pickup = nodeLoc[2 * o]
            let orderID = instance.orders[o].id
            for r in 0..<courierCount where courierCap[r] > 0 {
                if !excluded.isEmpty, excluded.contains(OfferPair(order: orderID, courier: instance.couriers[r].id)) { continue }
                let s = selection.seconds(courierStart[r], pickup)
                guard s < .infinity else { continue }
                if heap.count < k {
                    heap.append((s, r)); siftUp(&heap, heap.count - 1)
                } else if s < heap[0].0 {
                    heap[0] = (s, r); siftDown(&heap, 0)
                }
            }
            var row = [(col: Int, cost: Double)](), where_ = [(Int, Int, Int)]()
            for (_, r) in heap {
                if let found = bestInsertion(o, route: r, bound: .infinity) {
                    row.append((r, found.delta)); where_.append((r, found.i, found.j))
                }
            }
            guard !row.isEmpty else { continue }
            row.append((courierCount + rowOrders.count, 1e12))
            rowOrders.append(o)
            entries.append(row); positions.append(where_)
        }
        guard !rowOrders.isEmpty,
              let matrix = try? SparseCostMatrix(rows: rowOrders.count, cols: courierCount + rowOrders.count, entries: entries),
              let matching = try? LinearAssignment.solve(matrix) else { return [] }
        var proposals = [StackingRound.Proposal]()
        for (row, col) in matching.columnForRow.enumerated() where col >= 0 && col < courierCount {
            guard let (r, i, j) = positions[row].first(where: { $0.0 == col }) else { continue }
            let o = rowOrders[row]
            let delta = entries[row].first { $0.col == col }?.cost ?? 0
            proposals.append(StackingRound.Proposal(order: instance.orders[o].id, courier: instance.couriers[r].id,
                                                    pickupAt: i, dropoffAt: j, addedTravelSeconds: delta))
        }
        return proposals
    }

    private func siftUp(_ h: inout [(Double, Int)], _ start: Int) {
        var c = start
        while c > 0 {
            let p = (c - 1) / 2
            if h[p].0 >= h[c].0 { break }
            h.swapAt(p, c); c = p
        }
    }

    private func siftDown(_ h: inout [(Double, Int)], _ start: Int) {
        var p = start
        while true {
            let l = 2 * p + 1, r = l + 1
            var m = p
            if l < h.count, h[l].0 > h[m].0 { m = l }
            if r < h.count, h[r].0 > h[m].0 { m = r }
            if m == p { return }
            h.swapAt(p, m); p = m
        }
    }
}

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
    /// `excludedPairs` (a declined or expired offer) is never proposed. With `delayWeight` > 0 every feasible
    /// insertion position is priced as added travel + `delayWeight` × the delivery delay it causes (the new order's
    /// drop-off beyond its ideal one, food ready then driven straight there, plus how much later each order already
    /// on the route is dropped off), so that the matching trades the fleet's driving against customers' waiting.
    public static func run<T: TravelTimes, S: TravelTimes>(_ instance: PlanInstance, travel: T, selection: S, candidatesPerOrder: Int = 30,
                                                           excludedPairs: Set<OfferPair> = [],
                                                           delayWeight: Double = 0) throws(PlanInstanceError) -> [Proposal] {
        var search = try PlannerSearch(instance, travel: travel, seed: 1, buildNeighbors: false)
        return search.stackingRound(candidatesPerOrder: candidatesPerOrder, selection: selection, excluded: excludedPairs,
                                    delayWeight: delayWeight)
    }
}

extension PlannerSearch {
    mutating func stackingRound<S: TravelTimes>(candidatesPerOrder: Int, selection: S, excluded: Set<OfferPair>,
                                                delayWeight: Double = 0) -> [StackingRound.Proposal] {
        let waiting = (0..<orderCount).filter { routeOf[$0] == -1 }
        let courierCount = routes.count
        guard !waiting.isEmpty, courierCount > 0 else { return [] }
        let k = max(1, min(candidatesPerOrder, courierCount))
        var entries = [[(col: Int, cost: Double)]]()
        var positions = [[(Int, Int, Int, Double)]]()   // per row: (courier, i, j, added travel)
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
            var row = [(col: Int, cost: Double)](), where_ = [(Int, Int, Int, Double)]()
            for (_, r) in heap {
                if delayWeight > 0 {
                    if let found = bestDelayPricedInsertion(o, route: r, delayWeight: delayWeight) {
                        row.append((r, found.price)); where_.append((r, found.i, found.j, found.travel))
                    }
                } else if let found = bestInsertion(o, route: r, bound: .infinity) {
                    row.append((r, found.delta)); where_.append((r, found.i, found.j, found.delta))
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
            guard let (r, i, j, delta) = positions[row].first(where: { $0.0 == col }) else { continue }
            let o = rowOrders[row]
            proposals.append(StackingRound.Proposal(order: instance.orders[o].id, courier: instance.couriers[r].id,
                                                    pickupAt: i, dropoffAt: j, addedTravelSeconds: delta))
        }
        return proposals
    }

    /// Order `o`'s feasible insertion into route `r` with the least added travel + `delayWeight` × delivery delay
    /// (`StackingRound.run`), trying every pickup and drop-off position; nil when none is feasible.
    /// - Complexity: O(stops³).
    mutating func bestDelayPricedInsertion(_ o: Int, route r: Int, delayWeight: Double) -> (price: Double, travel: Double, i: Int, j: Int)? {
        let p = 2 * o, d = 2 * o + 1
        let pd = travel.seconds(nodeLoc[p], nodeLoc[d], courier: r)
        guard pd < .infinity, courierCap[r] > 0 else { return nil }
        let ideal = nodeReady[p] + nodeService[p] + pd
        let count = routes[r].nodes.count
        var best: (price: Double, travel: Double, i: Int, j: Int)?
        for i in 0...count {
            if (i == 0 ? courierInitLoad[r] : Int(routes[r].load[i - 1])) >= courierCap[r] { continue }
            for j in i...count {
                guard let (cost, dropoff, laterOthers) = insertedSchedule(o, route: r, pickupAt: i, dropoffAt: j) else { continue }
                let added = cost - routes[r].cost
                let price = added + delayWeight * (max(0, dropoff - ideal) + laterOthers)
                if price < (best?.price ?? .infinity) { best = (price, added, i, j) }
            }
        }
        return best
    }

    /// Route `r` with order `o`'s pickup before stop `i` and drop-off before stop `j` (as `canInsert`): its travel,
    /// the new drop-off's arrival and the seconds by which the route's other drop-offs arrive later than now; nil
    /// when a leg is unreachable or capacity, a deadline or a ride limit is broken.
    /// - Complexity: O(stops).
    mutating func insertedSchedule(_ o: Int, route r: Int, pickupAt i: Int, dropoffAt j: Int) -> (Double, Double, Double)? {
        let route = routes[r], count = route.nodes.count, cap = courierCap[r]
        var t = courierAvail[r], loc = courierStart[r], load = courierInitLoad[r], cost = 0.0
        var newPickupStart = 0.0, newDropoff = 0.0, later = 0.0
        var k = 0, phase = 0
        while true {
            let node: Int, old: Int
            if phase == 0, k == i {
                node = 2 * o; old = -1; phase = 1
            } else if phase == 1, k == j {
                node = 2 * o + 1; old = -1; phase = 2
            } else if k < count {
                node = Int(route.nodes[k]); old = k; k += 1
            } else {
                break
            }
            let nl = nodeLoc[node], order = node >> 1
            let leg = travel.seconds(loc, nl, courier: r)
            if leg == .infinity { return nil }
            cost += leg
            let arrival = t + leg
            var start = arrival
            if node & 1 == 0 {
                start = max(arrival, nodeReady[node])
                load += 1
                if load > cap { return nil }
                if old < 0 { newPickupStart = start } else { scratchStart[order] = start }
            } else {
                if arrival > nodeDeadline[node] { return nil }
                load -= 1
                if old < 0 {
                    if arrival - newPickupStart > maxRide[order] { return nil }
                    newDropoff = arrival
                } else {
                    if !onBoard[order] {
                        // The pickup precedes its drop-off on the route, so its new start was written above.
                        if arrival - scratchStart[order] > maxRide[order] { return nil }
                    }
                    later += max(0, arrival - route.arrival[old])
                }
            }
            t = start + nodeService[node]; loc = nl
        }
        return (cost, newDropoff, later)
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

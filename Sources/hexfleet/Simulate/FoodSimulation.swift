import Dispatcher
import Engine
import Foundation
import Routing
import Vocabulary

/// The food-delivery scenario in virtual time (`simulate --offline --scenario food`): restaurants, a lunch peak,
/// preparation times and deadlines (`FoodDemand`), a fleet of cars and bicycles, and one of two dispatch policies.
///
/// - `single`: today's dispatch. Every round, one batch-optimal `DispatchRound` matches waiting orders to idle
///   couriers as soon as they are created; a courier carries one order: drive to the restaurant, wait for the
///   food, hand over, drive to the customer.
/// - `stacked`: couriers carry up to their capacity (car 3, bicycle 2) on routes that keep the planner's rules (ready
///   times, deadlines, maximum ride, service times, promised stops in order). An order is offered once its food is
///   at most `holdLeadSeconds` from ready; every batching window each due order's feasible insertions into the
///   routes of its nearest idle and busy couriers are priced as added travel plus a delay weight × the delivery
///   delay they cause (to itself beyond its ideal drop-off, and to the orders already on that route; the weight
///   kept by a `DelayPriceController` at a delay budget), and one exact assignment (`LinearAssignment`) gives each
///   courier at most one new order (an order that would stack behind another matched one waits a round). Couriers on a trip are candidates
///   too, planned from the stop they are driving to (forward dispatch).
///
/// Couriers answer offers after 2–10 s and accept with `acceptProbability`; a decline excludes the pair. A stacked
/// insertion is planned again on acceptance (the courier moved on meanwhile) and every committed route is checked
/// by the planner itself (`route_check_failures`). Couriers drive node to node at their own fraction of free-flow
/// speed (0.6–0.95, as `RoadMover`); the dispatcher estimates with the fleet's mean (0.775). Idle couriers wait
/// where they are. Orders nobody took by their deadline are cancelled. After the order window closes the run goes
/// on until every order is delivered or cancelled. Same scenario and seed, same report, to the last digit.
struct FoodSimulation {
    /// `--policy` values of the food scenario.
    enum Policy: String, Sendable, CaseIterable { case single, stacked }

    /// Knobs of the `stacked` policy (not of the scenario).
    struct StackingPolicy: Sendable, Equatable {
        /// An order is offered once its food is at most this many seconds from ready.
        var holdLeadSeconds = 600.0
        /// Weight of one second of delivery delay against one second of added travel in an insertion's price.
        var delayWeight = 1.0
        /// Stacked rounds run this often at most (the batching window; `single` keeps `--round-seconds`).
        var batchingWindowSeconds = 40.0
        /// Idle couriers priced per order: the nearest by the time they could reach the restaurant.
        var candidatesPerOrder = 8
        /// Busy couriers priced per order, chosen the same way (more of them: a busy courier is where forward
        /// dispatch and stacking find their savings).
        var busyCandidatesPerOrder = 24
        /// No insertion may deliver an order more than this many seconds after its ideal drop-off (food ready,
        /// picked up at once, driven straight there): the policy's own promise, tighter than the deadline.
        var maxDelaySeconds = Double.infinity
        /// Price every insertion position by travel and delay (true), or only the planner's travel-cheapest one.
        var pricesEveryPosition = true
        /// Deadlines are planned this many seconds early, against couriers slower than the dispatcher assumes.
        var deadlineMarginSeconds = 300.0
        /// Ruin-and-recreate iterations per due order when the round is planned jointly by `RoutePlanner` (0, the
        /// default: each due order priced alone, one exact matching). The budget is counted in iterations, not
        /// milliseconds, so a seed gives the same run on any machine. Off: on travel alone the planner stacks far more
        /// and delivers much later (docs/benchmarks.md, "Food scenario").
        var planIterationsPerOrder = 0
        /// Weight of one second of `distanceToDemand` added at the end of a courier's route (where the courier is
        /// left after its last drop-off) against one second of added travel: a courier left far from the
        /// restaurants drives farther empty to its next order.
        var positionWeight = 0.5
        /// When set, `delayWeight` is only the starting weight: a `DelayPriceController` adapts it every round so that
        /// the delay committed per order stays near this share of the orders' ideal delivery time (nil: the fixed
        /// `delayWeight`). A fixed weight spends a different delay on every demand pattern; the budget spends the
        /// same share on each (docs/benchmarks.md, "Food scenario").
        var delayBudgetShare: Double? = 0.04
        /// How hard the controller pulls the weight back when the committed delay leaves its budget.
        var delayBudgetGain = 2.0
        /// Hold back a matched order for one round when it would stack behind another of the round's orders on that
        /// order's courier for at least `deferMarginSeconds` less (price, after a round's wait priced as delay).
        var defersForStacks = true
        var deferMarginSeconds = 30.0
        /// Plan each courier's legs at the pace it drove its last leg (free-flow time over the time it took) instead
        /// of the fleet's mean speed factor. Off by default: the simulated couriers keep one speed all lunch, so one
        /// leg tells the dispatcher a courier's pace exactly, which flatters the idea (docs/benchmarks.md).
        var learnsCourierPace = false
    }

    /// The scenario and the policy; every field but `stacking` is the same for both policies.
    struct Scenario: Sendable {
        var couriers = 90
        /// Orders are created during this window (seconds); the run continues until all are settled.
        var windowSeconds = 10_800.0
        var seed: UInt64 = 1
        var policy = Policy.stacked
        var roundSeconds = 10.0
        var acceptProbability = 0.9
        var decisionSeconds = 2.0...10.0
        var demand = FoodDemand.Parameters()
        /// Share of the fleet on bicycles (capacity `bicycleCapacity`); the rest drive cars.
        var bicycleShare = 0.5
        var carCapacity = 3
        var bicycleCapacity = 2
        var speedRange = 0.6...0.95
        /// The speed factor the dispatcher assumes for everyone (the range's mean).
        var plannerSpeedFactor = 0.775
        var stacking = StackingPolicy()
        /// Virtual clock origin: 2026-01-01 11:00 CET, the start of the lunch window.
        var startMs: Int64 = 1_767_261_600_000
    }

    /// What a run measured.
    struct Report: Sendable, Equatable {
        var policy = Policy.stacked
        var seed: UInt64 = 0
        var couriers = 0
        var windowSeconds = 0.0
        var peakOrdersPerMinute = 0.0
        var orders = 0
        var delivered = 0
        var cancelled = 0
        var late = 0
        var deliverySeconds: [Double] = []
        var rideSeconds: [Double] = []
        var travelSeconds = 0.0
        var restaurantWaitSeconds = 0.0
        var stackedDeliveries = 0
        var offers = 0
        var offersDeclined = 0
        var routeChecks = 0
        var routeCheckFailures = 0
        var capacityViolations = 0
        var unserved: Int { orders - delivered }

        /// One JSON object, keys in a fixed order, seconds to 0.1 (docs/simulator.md lists the keys).
        var jsonLine: String {
            func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
            let perDelivery = { (x: Double) in delivered > 0 ? x / Double(delivered) : 0 }
            let fields: [(String, String)] = [
                ("mode", "\"offline\""), ("scenario", "\"food\""), ("policy", "\"\(policy.rawValue)\""),
                ("seed", "\(seed)"), ("drivers", "\(couriers)"), ("duration_s", fixed(windowSeconds, 1)),
                ("peak_orders_per_minute", fixed(peakOrdersPerMinute, 1)),
                ("orders", "\(orders)"), ("delivered", "\(delivered)"), ("unserved", "\(unserved)"),
                ("cancelled", "\(cancelled)"), ("late", "\(late)"),
                ("mean_delivery_s", fixed(SimReport.mean(deliverySeconds), 1)),
                ("p90_delivery_s", fixed(SimReport.quantile(deliverySeconds, 0.9), 1)),
                ("mean_ride_s", fixed(SimReport.mean(rideSeconds), 1)),
                ("courier_travel_s_per_delivery", fixed(perDelivery(travelSeconds), 1)),
                ("restaurant_wait_s_per_delivery", fixed(perDelivery(restaurantWaitSeconds), 1)),
                ("stacked_share", fixed(delivered > 0 ? Double(stackedDeliveries) / Double(delivered) : 0, 4)),
                ("offers", "\(offers)"), ("offers_declined", "\(offersDeclined)"),
                ("route_checks", "\(routeChecks)"), ("route_check_failures", "\(routeCheckFailures)"),
                ("capacity_violations", "\(capacityViolations)"),
            ]
            return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }
    }

    let scenario: Scenario
    let network: RoadNetwork

    /// Runs the scenario; `progress` gets a line per simulated 30 minutes.
    func run(progress: (String) -> Void = { _ in }) throws -> Report {
        var state = try FoodRun(scenario: scenario, network: network)
        return try state.run(progress: progress)
    }
}

/// The mutable state of one food run (see `FoodSimulation`); the `stacked` policy is in `FoodRun+Stacked.swift`.
struct FoodRun {
    enum Phase { case idle, driving, atStop }
    enum OrderStatus { case pending, waiting, offered, assigned, delivered, cancelled }

    struct Courier {
        var node: Int
        var speed: Double
        var capacity: Int
        var vehicle: VehicleType
        var stops: [PlanStop] = []
        var phase = Phase.idle
        /// The dispatcher's estimate of the arrival at `stops[0]` while driving.
        var estimatedArrivalMs: Int64 = 0
        /// When the service at `stops[0]` ends, once there.
        var serviceEndMs: Int64 = 0
        var offerPending = false
        var onBoard: [Int] = []
        var idleSinceMs: Int64 = 0
        var assignments = 0
        /// When the current leg started and its free-flow milliseconds (what the dispatcher learns a pace from).
        var legStartMs: Int64 = 0
        var legFreeFlowMs = 0.0
        /// Free-flow time over driven time on the last completed leg, once the dispatcher has seen one.
        var learnedSpeed: Double?
    }

    struct Order {
        var draw: FoodDemand.Order
        var status = OrderStatus.pending
        var pickupStartMs: Int64 = 0
        var stacked = false
    }

    enum EventKind { case answer(order: Int, accept: Bool), arrive, finish }

    struct Event: Comparable {
        var atMs: Int64
        var seq: Int
        var courier: Int
        var kind: EventKind
        static func < (a: Event, b: Event) -> Bool { (a.atMs, a.seq) < (b.atMs, b.seq) }
        static func == (a: Event, b: Event) -> Bool { (a.atMs, a.seq) == (b.atMs, b.seq) }
    }

    /// A courier as the planner sees it at some time: leaving `start` after `availableAt` seconds, then `promised`.
    struct PlanningView {
        var start: Int
        var availableAt: Double
        var promised: [PlanStop]
        /// This courier's legs take `pace` × the fleet-mean estimate (1 unless the policy learns courier pace).
        var pace = 1.0
    }

    /// A priced insertion of one order into one courier's route.
    struct Insertion {
        var courier: Int
        var order: Int
        var cost: Double
        /// The delivery delay in `cost` (unweighted): the new order's beyond its ideal drop-off plus what it adds
        /// to the orders already on the route.
        var delay: Double
        var stops: [PlanStop]
        var relaxed: Bool
    }

    let s: FoodSimulation.Scenario
    let graph: RoadGraph
    let travel: NodeTravelCache
    var couriers: [Courier] = []
    var orders: [Order] = []
    var heap = MinHeap<Event>()
    var seq = 0
    var rng: SimRandom
    var excluded = Set<OfferPair>()
    var report = FoodSimulation.Report()
    var nowMs: Int64
    /// Road node of each restaurant, and how many orders each has had so far (the dispatcher learns popularity).
    var restaurantNodes: [Int] = []
    var ordersByRestaurant: [Int] = []
    /// The adaptive delay weight of the `stacked` policy (nil: the fixed `delayWeight`).
    var delayPrice: DelayPriceController?

    init(scenario: FoodSimulation.Scenario, network: RoadNetwork) throws {
        s = scenario
        graph = network.graph
        let cache = NodeTravelCache(network: network)
        travel = cache
        nowMs = scenario.startMs
        // The strongly connected part of the graph, as the other simulations use it.
        let component = try RoadMover(network: network, driverCount: 0, seed: scenario.seed, startMs: scenario.startMs, hubCount: 2)
        let zones = DemandModel(graph: network.graph, reachableNodes: component.connectedNodes, ordersPerMinute: 0,
                                startMs: scenario.startMs, seed: scenario.seed, hotSpots: 0)
        let demand = FoodDemand(graph: network.graph, zones: zones, reachableNodes: component.connectedNodes,
                                parameters: scenario.demand, startMs: scenario.startMs,
                                windowSeconds: scenario.windowSeconds, seed: scenario.seed,
                                driveMs: { cache.ms($0, $1) })
        orders = demand.orders.map { Order(draw: $0) }
        restaurantNodes = demand.restaurantNodes
        ordersByRestaurant = [Int](repeating: 0, count: demand.restaurantNodes.count)
        var fleetRandom = SimRandom(seed: scenario.seed, stream: 12)
        for i in 0..<scenario.couriers {
            // Couriers log on near restaurants; bicycles are spread evenly through the fleet at `bicycleShare`.
            let node = demand.restaurantNodes[fleetRandom.index(demand.restaurantNodes.count)]
            let speed = scenario.speedRange.lowerBound + (scenario.speedRange.upperBound - scenario.speedRange.lowerBound) * fleetRandom.unit()
            let bicycle = (Double(i + 1) * scenario.bicycleShare).rounded(.down) > (Double(i) * scenario.bicycleShare).rounded(.down)
            couriers.append(Courier(node: node, speed: speed, capacity: bicycle ? scenario.bicycleCapacity : scenario.carCapacity,
                                    vehicle: bicycle ? .bicycle : .car, idleSinceMs: scenario.startMs))
        }
        rng = SimRandom(seed: scenario.seed, stream: 13)
        if let share = scenario.stacking.delayBudgetShare {
            delayPrice = DelayPriceController(budgetShare: share, initialWeight: scenario.stacking.delayWeight,
                                              gain: scenario.stacking.delayBudgetGain)
        }
        report.policy = scenario.policy
        report.seed = scenario.seed
        report.couriers = scenario.couriers
        report.windowSeconds = scenario.windowSeconds
        report.peakOrdersPerMinute = scenario.demand.peakOrdersPerMinute
        report.orders = orders.count
    }

    // MARK: - Time

    /// The dispatcher's estimate of a drive, seconds.
    func estimate(_ a: Int, _ b: Int) -> Double { travel.ms(a, b) / 1000 / s.plannerSpeedFactor }

    /// How much longer than the fleet-mean estimate courier `c` takes, as the dispatcher believes (1 until it has
    /// seen the courier drive a leg, or when the policy does not learn pace).
    func pace(_ c: Int) -> Double {
        guard s.stacking.learnsCourierPace, let speed = couriers[c].learnedSpeed, speed > 0 else { return 1 }
        return s.plannerSpeedFactor / speed
    }

    mutating func schedule(_ at: Int64, _ courier: Int, _ kind: EventKind) {
        seq += 1
        heap.push(Event(atMs: at, seq: seq, courier: courier, kind: kind))
    }

    mutating func run(progress: (String) -> Void) throws -> FoodSimulation.Report {
        let windowEnd = s.startMs + Int64(s.windowSeconds * 1000)
        let hardStop = windowEnd + 6 * 3_600_000
        let roundMs = max(1, Int64(s.roundSeconds * 1000))
        var nextOrder = 0
        var nextProgressMs = s.startMs + 1_800_000
        var nextStackedRoundMs = s.startMs
        var t = s.startMs
        while t <= hardStop {
            while let e = heap.peek(), e.atMs <= t {
                _ = heap.pop()
                nowMs = e.atMs
                handle(e)
            }
            nowMs = t
            while nextOrder < orders.count, orders[nextOrder].draw.createdMs <= t {
                orders[nextOrder].status = .waiting
                ordersByRestaurant[orders[nextOrder].draw.restaurant] += 1
                nextOrder += 1
            }
            for o in 0..<nextOrder where orders[o].status == .waiting && orders[o].draw.deadlineMs <= t {
                orders[o].status = .cancelled
                report.cancelled += 1
            }
            let waiting = (0..<nextOrder).filter { orders[$0].status == .waiting }
            if !waiting.isEmpty {
                switch s.policy {
                case .single:
                    try singleRound(waiting)
                case .stacked:
                    if t >= nextStackedRoundMs {
                        stackedRound(waiting)
                        nextStackedRoundMs = t + Int64(s.stacking.batchingWindowSeconds * 1000)
                    }
                }
            }
            if t >= nextProgressMs {
                progress("t=\((t - s.startMs) / 1000) s orders=\(nextOrder) delivered=\(report.delivered) waiting=\(waiting.count)")
                nextProgressMs += 1_800_000
            }
            if t >= windowEnd, nextOrder == orders.count, heap.isEmpty, waiting.isEmpty { break }
            t += roundMs
        }
        return report
    }

    // MARK: - Execution

    mutating func handle(_ e: Event) {
        let c = e.courier
        switch e.kind {
        case .answer(let o, let accept):
            couriers[c].offerPending = false
            guard orders[o].status == .offered else { return }
            if !accept {
                report.offersDeclined += 1
                excluded.insert(OfferPair(order: OrderID(UInt64(o + 1)), courier: CourierID(UInt64(c + 1))))
                orders[o].status = .waiting
                return
            }
            switch s.policy {
            case .single:
                couriers[c].stops = [PlanStop(order: OrderID(UInt64(o + 1)), kind: .pickup),
                                     PlanStop(order: OrderID(UInt64(o + 1)), kind: .dropoff)]
                orders[o].status = .assigned
                couriers[c].assignments += 1
                startLeg(c)
            case .stacked:
                // The courier moved on while deciding: plan the insertion again from where it is now.
                let view = planningView(c)
                if let again = price(courier: c, view: view, order: o, relaxDeadline: false)
                    ?? price(courier: c, view: view, order: o, relaxDeadline: true) {
                    commit(again, view: view)
                } else {
                    orders[o].status = .waiting
                }
            }
        case .arrive:
            couriers[c].phase = .atStop
            if couriers[c].legFreeFlowMs > 0, e.atMs > couriers[c].legStartMs {
                couriers[c].learnedSpeed = couriers[c].legFreeFlowMs / Double(e.atMs - couriers[c].legStartMs)
            }
            let stop = couriers[c].stops[0]
            let o = Int(stop.order.rawValue) - 1
            if stop.kind == .pickup {
                let start = max(e.atMs, orders[o].draw.readyMs)
                report.restaurantWaitSeconds += Double(start - e.atMs) / 1000
                orders[o].pickupStartMs = start
                couriers[c].onBoard.append(o)
                if couriers[c].onBoard.count > couriers[c].capacity { report.capacityViolations += 1 }
                if couriers[c].onBoard.count >= 2 { for b in couriers[c].onBoard { orders[b].stacked = true } }
                couriers[c].serviceEndMs = start + Int64(s.demand.serviceSeconds * 1000)
            } else {
                let d = orders[o].draw
                report.delivered += 1
                report.deliverySeconds.append(Double(e.atMs - d.createdMs) / 1000)
                report.rideSeconds.append(Double(e.atMs - orders[o].pickupStartMs) / 1000)
                if e.atMs > d.deadlineMs { report.late += 1 }
                if orders[o].stacked { report.stackedDeliveries += 1 }
                orders[o].status = .delivered
                couriers[c].onBoard.removeAll { $0 == o }
                couriers[c].serviceEndMs = e.atMs + Int64(s.demand.serviceSeconds * 1000)
            }
            schedule(couriers[c].serviceEndMs, c, .finish)
        case .finish:
            couriers[c].stops.removeFirst()
            if couriers[c].stops.isEmpty {
                couriers[c].phase = .idle
                couriers[c].idleSinceMs = e.atMs
            } else {
                startLeg(c)
            }
        }
    }

    func location(_ stop: PlanStop) -> Int {
        let d = orders[Int(stop.order.rawValue) - 1].draw
        return stop.kind == .pickup ? d.pickupNode : d.dropoffNode
    }

    /// Drives courier `c` from its node to `stops[0]` at its own speed.
    mutating func startLeg(_ c: Int) {
        let target = location(couriers[c].stops[0])
        let from = couriers[c].node
        let freeFlowMs = travel.ms(from, target)
        let seconds = freeFlowMs.isFinite ? freeFlowMs / 1000 / couriers[c].speed : 0
        report.travelSeconds += seconds
        couriers[c].phase = .driving
        couriers[c].estimatedArrivalMs = nowMs + Int64((estimate(from, target) * pace(c) * 1000).rounded())
        couriers[c].legStartMs = nowMs
        couriers[c].legFreeFlowMs = freeFlowMs.isFinite ? freeFlowMs : 0
        couriers[c].node = target
        schedule(nowMs + Int64((seconds * 1000).rounded(.up)), c, .arrive)
    }

    // MARK: - Single

    mutating func singleRound(_ waiting: [Int]) throws {
        let idle = couriers.indices.filter { couriers[$0].phase == .idle && !couriers[$0].offerPending }
        guard !idle.isEmpty else { return }
        var nodeOf: [NodeETAProvider.LatLngKey: Int] = [:]
        func point(_ node: Int) -> LatLng {
            let p = graph.coordinate(node)
            nodeOf[NodeETAProvider.LatLngKey(p)] = node
            return p
        }
        var snapshots: [CourierSnapshot] = []
        for c in idle {
            snapshots.append(CourierSnapshot(id: CourierID(UInt64(c + 1)), position: point(couriers[c].node),
                                             vehicle: couriers[c].vehicle, idleSinceMs: couriers[c].idleSinceMs,
                                             recentAssignments: couriers[c].assignments))
        }
        let waitingOrders = waiting.map {
            WaitingOrder(id: OrderID(UInt64($0 + 1)), pickup: point(orders[$0].draw.pickupNode), createdAtMs: orders[$0].draw.createdMs)
        }
        var seconds: [UInt64: Double] = [:]
        for c in idle { for o in waiting { travel.want(couriers[c].node, orders[o].draw.pickupNode) } }
        travel.fetchPending()
        for c in idle {
            for o in waiting {
                let a = couriers[c].node, b = orders[o].draw.pickupNode
                seconds[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] = estimate(a, b)
            }
        }
        var config = DispatchConfig()
        config.maxPickupETASeconds = 1_800
        let round = DispatchRound(orders: waitingOrders, couriers: CourierSnapshotIndex(snapshots),
                                  eta: NodeETAProvider(nodeOf: nodeOf, secondsByPair: seconds),
                                  policy: .batchOptimal, config: config, nowMs: nowMs, excludedPairs: excluded)
        let plan = try round.run()
        for a in plan.assignments {
            offer(order: Int(a.order.rawValue) - 1, courier: Int(a.courier.rawValue) - 1)
        }
    }

    mutating func offer(order o: Int, courier c: Int) {
        orders[o].status = .offered
        couriers[c].offerPending = true
        report.offers += 1
        let delay = s.decisionSeconds.lowerBound + (s.decisionSeconds.upperBound - s.decisionSeconds.lowerBound) * rng.unit()
        schedule(nowMs + Int64(delay * 1000), c, .answer(order: o, accept: rng.chance(s.acceptProbability)))
    }
}

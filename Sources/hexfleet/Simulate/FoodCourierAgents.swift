import Dispatcher
import Engine
import Foundation
import JSON
import Routing

/// The food scenario online (`simulate --scenario food`, docs/simulator.md "Policies online"): the offline scenario's
/// restaurants and lunch-peak orders placed through `POST /v1/orders` with `ready_in_s`, `deadline_s` and
/// `max_ride_s`, and couriers that drive the route the engine planned for them.
///
/// A courier answers an offer (`GET /v1/orders/{id}` shows it dispatched to it; `GET /v1/drivers/{id}/offers` gives
/// the promised pickup ETA and, stacked, the insertion point) by accepting with the configured probability when it
/// has room: under `stacked` fewer orders than its capacity (car 3, bicycle 2), under `single` none. After every
/// accept and every served stop it reads `GET /v1/drivers/{id}/route` and drives to the first stop: at a pickup it
/// waits for the food (ready time), hands over and reports `/pickup`; at a drop-off it hands over and reports
/// `/deliver`. Idle couriers wait where they are. An order nobody accepted by its deadline is cancelled, as offline.
struct FoodCourierAgents {
    /// Seconds at each stop: the engine's service time, so its plans and ETAs price what the couriers do (the
    /// offline scenario's 120 s is the simulator's own dispatcher's).
    static let handoverSeconds = 60.0

    /// One planned stop as the route endpoint lists it.
    struct Stop: Equatable {
        var order: String
        var kind: PlanStopKind
    }

    private struct Tracked {
        var id: String
        var draw: FoodDemand.Order
        var courier = -1
        var phase = Phase.open
        var pickupStartMs: Int64 = 0
        var dropoffArrivalMs: Int64 = 0
        var stacked = false
        enum Phase { case open, accepted, pickedUp, done }
    }

    private struct Courier {
        var capacity: Int
        /// Accepted orders not yet delivered, and those of them on board.
        var orders: [String] = []
        var onBoard: [String] = []
        /// The stop being driven to or served.
        var target: Stop?
        var atStop = false
        var driveStartMs: Int64 = 0
        var driveEndMs: Int64 = 0
        var serviceEndMs: Int64 = 0
    }

    private let config: OnlineSimulation.Config
    private let network: RoadNetwork
    private let mover: RoadMover
    private let http: SimHTTPClient
    private let progress: (String) -> Void
    private let demand: FoodDemand
    private let parameters: FoodDemand.Parameters
    private let stacked: Bool
    private var rng: SimRandom
    private var nextOrder = 0
    private var orders: [Tracked] = []
    private var indexOf: [String: Int] = [:]
    private var couriers: [Courier] = []
    private var answered = Set<String>()
    private var warned = Set<String>()
    private var nextPollMs: Int64 = 0
    /// The food figures of the report.
    private(set) var figures = SimReport.FoodFigures()

    /// Draws the scenario from the seed (restaurants, orders of `[startMs, startMs + duration)`) and parks every
    /// courier at a random restaurant; every other courier is a bicycle, as offline.
    init(config: OnlineSimulation.Config, network: RoadNetwork, mover: RoadMover, http: SimHTTPClient, startMs: Int64,
         progress: @escaping (String) -> Void) {
        self.config = config
        self.network = network
        self.mover = mover
        self.http = http
        self.progress = progress
        stacked = config.policy == .stacked
        var p = FoodDemand.Parameters()
        p.peakOrdersPerMinute = config.ordersPerMinute
        parameters = p
        let cache = NodeTravelCache(network: network)
        let zones = DemandModel(graph: network.graph, reachableNodes: mover.connectedNodes, ordersPerMinute: 0,
                                startMs: startMs, seed: config.seed, hotSpots: 0)
        demand = FoodDemand(graph: network.graph, zones: zones, reachableNodes: mover.connectedNodes, parameters: p,
                            startMs: startMs, windowSeconds: config.durationSeconds, seed: config.seed,
                            driveMs: { cache.ms($0, $1) })
        var fleetRandom = SimRandom(seed: config.seed, stream: 12)
        let scenario = FoodSimulation.Scenario()
        for i in 0..<config.drivers {
            mover.place(i, atNode: demand.restaurantNodes[fleetRandom.index(demand.restaurantNodes.count)], atMs: startMs)
            let bicycle = (Double(i + 1) * scenario.bicycleShare).rounded(.down) > (Double(i) * scenario.bicycleShare).rounded(.down)
            couriers.append(Courier(capacity: bicycle ? scenario.bicycleCapacity : scenario.carCapacity))
        }
        rng = SimRandom(seed: config.seed, stream: 14)
    }

    /// Orders created or still to create that are not delivered, cancelled or refused: the run drains them.
    var hasOpenWork: Bool { nextOrder < demand.orders.count || orders.contains { $0.phase != .done } }

    private mutating func warnOnce(_ what: String, _ r: SimHTTPClient.Response?) {
        guard warned.insert(what).inserted else { return }
        let code = ((r?.object?["error"] as? [String: Any])?["code"] as? String) ?? "-"
        progress("note: \(what) answered \(r.map { "\($0.status)" } ?? "no connection") (code \(code))")
    }

    private func driverID(_ c: Int) -> UInt64 { config.firstDriverID + UInt64(c) }

    /// `POST /v1/orders` body: customer, restaurant and customer points, and the food timing in whole seconds.
    private func orderBody(_ d: FoodDemand.Order, customer: Int) -> String {
        var w = JSONWriter(capacity: 220)
        w.beginObject()
        w.key("customer_id"); w.number(customer)
        for (key, node) in [("pickup", d.pickupNode), ("dropoff", d.dropoffNode)] {
            let p = network.graph.coordinate(node)
            w.key(key); w.beginObject()
            w.key("lat"); w.raw(Array(String(format: "%.7f", p.latDegrees).utf8))
            w.key("lng"); w.raw(Array(String(format: "%.7f", p.lngDegrees).utf8))
            w.endObject()
        }
        w.key("ready_in_s"); w.number(Int64(((Double(d.readyMs - d.createdMs)) / 1000).rounded()))
        w.key("deadline_s"); w.number(Int64(parameters.deadlineSeconds))
        w.key("max_ride_s"); w.number(Int64(parameters.maxRideSeconds))
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Creates due orders, moves couriers along their routes, and answers offers (polled once a second).
    mutating func step(nowMs: Int64, status: inout [UInt8], report: inout SimReport) {
        createDueOrders(nowMs: nowMs, report: &report)
        for c in couriers.indices where couriers[c].target != nil {
            serve(c, nowMs: nowMs, status: &status, report: &report)
        }
        guard nowMs >= nextPollMs else { return }
        nextPollMs = nowMs + 1_000
        pollOffers(nowMs: nowMs, status: &status, report: &report)
    }

    private mutating func createDueOrders(nowMs: Int64, report: inout SimReport) {
        while nextOrder < demand.orders.count, demand.orders[nextOrder].createdMs <= nowMs {
            let d = demand.orders[nextOrder]
            nextOrder += 1
            let r = try? http.request("POST", "/v1/orders", json: orderBody(d, customer: nextOrder),
                                      headers: [("Idempotency-Key", "sim-food-\(config.seed)-\(d.createdMs)-\(nextOrder)")])
            guard let r, r.status == 201, let id = SimHTTPClient.idText(r.object?["id"]) else {
                report.ordersFailed += 1
                warnOnce("POST /v1/orders", r)
                continue
            }
            report.ordersCreated += 1
            indexOf[id] = orders.count
            // Creation time as the customer saw it (the answer), so delivery times count from the engine's order.
            var draw = d
            let lag = nowMs - d.createdMs
            draw.createdMs += lag; draw.readyMs += lag; draw.deadlineMs += lag
            orders.append(Tracked(id: id, draw: draw))
        }
    }

    /// Arrival, service and report of courier `c`'s current stop.
    private mutating func serve(_ c: Int, nowMs: Int64, status: inout [UInt8], report: inout SimReport) {
        guard let stop = couriers[c].target, let k = indexOf[stop.order] else { return }
        if !couriers[c].atStop {
            guard mover.isParked(c, atMs: nowMs) else { return }
            figures.travelSeconds += Double(min(nowMs, couriers[c].driveEndMs) - couriers[c].driveStartMs) / 1000
            couriers[c].atStop = true
            let handover = Int64(Self.handoverSeconds * 1000)
            if stop.kind == .pickup {
                let start = max(nowMs, orders[k].draw.readyMs)
                figures.restaurantWaitSeconds += Double(start - nowMs) / 1000
                orders[k].pickupStartMs = start
                report.waits.append(Double(nowMs - orders[k].draw.createdMs) / 1000)
                couriers[c].serviceEndMs = start + handover
            } else {
                orders[k].dropoffArrivalMs = nowMs
                couriers[c].serviceEndMs = nowMs + handover
            }
            return
        }
        guard nowMs >= couriers[c].serviceEndMs else { return }
        couriers[c].atStop = false
        couriers[c].target = nil
        let action = stop.kind == .pickup ? "pickup" : "deliver"
        if transition(stop.order, action, courier: c) {
            if stop.kind == .pickup {
                orders[k].phase = .pickedUp
                couriers[c].onBoard.append(stop.order)
                if couriers[c].onBoard.count > couriers[c].capacity { figures.capacityViolations += 1 }
                if couriers[c].onBoard.count >= 2 { for o in couriers[c].onBoard { if let i = indexOf[o] { orders[i].stacked = true } } }
            } else {
                orders[k].phase = .done
                report.ordersDelivered += 1
                let d = orders[k].draw, arrival = orders[k].dropoffArrivalMs
                figures.deliverySeconds.append(Double(arrival - d.createdMs) / 1000)
                figures.rideSeconds.append(Double(arrival - orders[k].pickupStartMs) / 1000)
                if arrival > d.deadlineMs { figures.late += 1 }
                if orders[k].stacked { figures.stackedDeliveries += 1 }
                couriers[c].onBoard.removeAll { $0 == stop.order }
                couriers[c].orders.removeAll { $0 == stop.order }
            }
        } else {
            // The engine refused (the order was cancelled meanwhile): it leaves this courier.
            orders[k].phase = .done
            couriers[c].onBoard.removeAll { $0 == stop.order }
            couriers[c].orders.removeAll { $0 == stop.order }
        }
        followRoute(c, nowMs: nowMs, status: &status)
    }

    /// Reads courier `c`'s route and drives to its first stop (a new order may go before the stop it was heading
    /// for); with nothing planned it waits where it is. Orders the route does not list follow it in acceptance order.
    private mutating func followRoute(_ c: Int, nowMs: Int64, status: inout [UInt8]) {
        var stops: [Stop] = []
        if let r = try? http.request("GET", "/v1/drivers/\(driverID(c))/route"), r.status == 200,
           let listed = r.object?["stops"] as? [[String: Any]] {
            for s in listed {
                guard let order = SimHTTPClient.idText(s["order"]), let kind = (s["type"] as? String).flatMap(PlanStopKind.init(rawValue:)),
                      couriers[c].orders.contains(order),
                      kind == .dropoff || !couriers[c].onBoard.contains(order) else { continue }
                stops.append(Stop(order: order, kind: kind))
            }
        } else {
            warnOnce("GET /v1/drivers/{id}/route", nil)
        }
        // Orders the route does not list (no answer, or a plan the engine lost) are driven after it, so none is stranded.
        for o in couriers[c].orders where !stops.contains(where: { $0.order == o }) {
            if !couriers[c].onBoard.contains(o) { stops.append(Stop(order: o, kind: .pickup)) }
            stops.append(Stop(order: o, kind: .dropoff))
        }
        status[c] = couriers[c].onBoard.isEmpty ? (couriers[c].orders.isEmpty ? 1 : 2) : 3
        guard !couriers[c].atStop else { return }   // finish the stop being served first
        guard let next = stops.first else {
            if couriers[c].target != nil { figures.travelSeconds += Double(min(nowMs, couriers[c].driveEndMs) - couriers[c].driveStartMs) / 1000 }
            couriers[c].target = nil
            mover.park(c, atMs: nowMs)
            return
        }
        guard next != couriers[c].target, let k = indexOf[next.order] else { return }
        if couriers[c].target != nil {   // redirected while driving
            figures.travelSeconds += Double(min(nowMs, couriers[c].driveEndMs) - couriers[c].driveStartMs) / 1000
        }
        let node = next.kind == .pickup ? orders[k].draw.pickupNode : orders[k].draw.dropoffNode
        var seconds = 0.0
        if let s = mover.send(c, toNode: node, atMs: nowMs) { seconds = s } else { mover.place(c, atNode: node, atMs: nowMs) }
        couriers[c].target = next
        couriers[c].driveStartMs = nowMs
        couriers[c].driveEndMs = nowMs + Int64(seconds * 1000)
    }

    /// Once a second: cancels orders past their deadline that nobody accepted, and answers offers made to the
    /// simulator's couriers.
    private mutating func pollOffers(nowMs: Int64, status: inout [UInt8], report: inout SimReport) {
        for k in orders.indices where orders[k].phase == .open {
            let o = orders[k]
            if nowMs >= o.draw.deadlineMs {
                if let r = try? http.request("POST", "/v1/orders/\(o.id)/cancel", json: "{\"reason\":\"not taken by its deadline\"}"),
                   (200..<300).contains(r.status) {
                    orders[k].phase = .done
                    figures.cancelled += 1
                    report.ordersCancelled += 1
                    continue
                }
            }
            guard let r = try? http.request("GET", "/v1/orders/\(o.id)"), r.status == 200, let body = r.object else {
                warnOnce("GET /v1/orders/{id}", nil)
                continue
            }
            let state = body["status"] as? String ?? ""
            if state == "cancelled" || state == "failed" || state == "delivered" {
                orders[k].phase = .done
                if state == "cancelled" { figures.cancelled += 1; report.ordersCancelled += 1 }
                continue
            }
            guard state == "dispatched", let courierID = (body["courier_id"] as? NSNumber)?.uint64Value,
                  courierID >= config.firstDriverID, courierID - config.firstDriverID < UInt64(config.drivers),
                  answered.insert(o.id + "/\(courierID)").inserted else { continue }
            let c = Int(courierID - config.firstDriverID)
            figures.offers += 1
            var offeredETA: Double?
            if let r = try? http.request("GET", "/v1/drivers/\(courierID)/offers"), r.status == 200,
               let offers = r.object?["offers"] as? [[String: Any]],
               let offer = offers.first(where: { SimHTTPClient.idText($0["order"]) == o.id }) {
                offeredETA = (offer["pickup_eta_s"] as? NSNumber)?.doubleValue
            }
            let room = stacked ? couriers[c].orders.count < couriers[c].capacity : couriers[c].orders.isEmpty
            if room && rng.chance(config.acceptProbability) {
                guard transition(o.id, "accept", courier: c) else { continue }
                report.ordersAssigned += 1
                report.assignDelays.append(Double(nowMs - o.draw.createdMs) / 1000)
                if let offeredETA { report.pickupETAs.append(offeredETA) }
                orders[k].phase = .accepted
                orders[k].courier = c
                couriers[c].orders.append(o.id)
                followRoute(c, nowMs: nowMs, status: &status)
            } else if transition(o.id, "decline", courier: c) {
                report.offersDeclined += 1
            }
        }
    }

    /// `POST /v1/orders/{id}/{action}?driver=ID` on behalf of the courier; whether the engine took it.
    private mutating func transition(_ id: String, _ action: String, courier: Int) -> Bool {
        let (ok, r) = http.courierAction(id, action, driver: driverID(courier))
        if !ok { warnOnce("POST /v1/orders/{id}/\(action)", r) }
        return ok
    }
}

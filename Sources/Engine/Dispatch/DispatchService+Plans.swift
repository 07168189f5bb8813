import Dispatcher
import FleetIndex
import HTTPServer
import JSON
import Vocabulary

/// Couriers' plans: what an accepted offer adds, what a pickup or delivery removes, and who may read them.
extension DispatchService {
    // MARK: - what other services ask

    /// Lets dispatch read an order's drop-off and times when it plans a route (orders supply them).
    func useOrderDetails(_ details: @escaping (OrderID) -> DispatchOrderDetails?) {
        orderDetails = details
    }

    /// Hears `{"type":"eta","order","eta_pickup_ms","eta_dropoff_ms"}` for an order whenever either estimate moved by
    /// 15 s or more since the last one sent (the order's watchers).
    func onETAChange(_ listener: @escaping (OrderID, [UInt8]) -> Void) {
        etaListeners.append(listener)
    }

    /// A courier's planned stops in visiting order, read-only (for route deviation and other services): each an
    /// order's pickup or drop-off with its point; empty when the courier has no accepted order.
    func plannedStops(of courier: CourierID) -> [CourierPlan.Stop] {
        plans[courier]?.stops ?? []
    }

    /// The live ETAs of an accepted or picked-up order, from its courier's latest planned-route computation.
    func eta(of order: OrderID) -> OrderETA? {
        currentETAs[order]
    }

    /// The courier collected `order`: its pickup leaves the plan.
    func pickedUp(_ order: OrderID, by courier: CourierID) {
        if plans[courier]?.removePickup(of: order) == true { currentETAs[order]?.pickupMs = nil }
    }

    /// How many orders a courier of `vehicle` carries at once (docs/dispatch.md): bicycle and scooter 2, car and van 3.
    static func capacity(of vehicle: VehicleType) -> Int {
        switch vehicle {
        case .bicycle, .scooter: return 2
        case .car, .van: return 3
        }
    }

    /// A courier's capacity, by the vehicle it reported (`{"op":"vehicle"}`); a car when it said nothing.
    func capacity(of courier: CourierID) -> Int { Self.capacity(of: courierVehicles[courier] ?? .car) }

    // MARK: - plan changes

    /// The order's details, or a stand-in for orders queued without them (dropped off where collected, no limits).
    func details(of order: WaitingOrder) -> DispatchOrderDetails {
        orderDetails?(order.id) ?? DispatchOrderDetails(dropoff: order.pickup, createdAtMs: order.createdAtMs, timing: .init())
    }

    /// An accepted offer joins its courier's plan at the insertion it was offered at (mapped onto the stops as they
    /// are now), or at the end when it was offered without one.
    func addToPlan(_ orderID: OrderID, courier: CourierID) {
        let pending = pendingInsertions.removeValue(forKey: orderID)
        guard let order = lastOffered.removeValue(forKey: orderID) else { return }
        var plan = plans[courier] ?? CourierPlan()
        if let pending, pending.courier == courier {
            let i = plan.mappedIndex(pending.pickupAt, from: pending.stops)
            let j = plan.mappedIndex(pending.dropoffAt, from: pending.stops)
            plan.insert(orderID, pickup: order.pickup, details: details(of: order), pickupAt: i, dropoffAt: j)
        } else {
            plan.append(orderID, pickup: order.pickup, details: details(of: order), pickedUp: false)
        }
        plans[courier] = plan
    }

    /// The order leaves its courier's plan (delivered, cancelled, failed).
    func dropFromPlan(_ order: OrderID, courier: CourierID) {
        lastOffered[order] = nil
        currentETAs[order] = nil
        sentETAs[order] = nil
        guard var plan = plans[courier] else { return }
        plan.remove(order)
        plans[courier] = plan.stops.isEmpty ? nil : plan
    }

    // MARK: - GET /v1/drivers/{id}/route

    /// `GET /v1/drivers/{id}/route`: `{"driver":ID,"stops":[{"order","type","lat","lng","eta_ms"},…]}` for the driver
    /// itself, dispatchers and admins (others 403); 404 `driver_not_found` for a driver neither pinging nor planned.
    func getRoute(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try DriverJSON.id(request)
        let caller = try auth.require(request, [.driver, .dispatcher])
        guard caller.role != .driver || caller.driverID == id else { throw APIError(.forbidden, "a driver sees only its own route") }
        let plan = plans[id]
        let state = table.state(of: id)
        guard plan != nil || state != nil else { throw APIError(.driverNotFound, "no driver \(id)") }
        let stops = plan?.stops ?? []
        let etas = plan.map { routeETAs($0, position: state?.position, nowMs: clock.nowMs) } ?? []
        responder.respond(.json { w in
            w.beginObject()
            w.key("driver"); w.number(id.rawValue)
            w.key("stops"); w.beginArray()
            for (k, s) in stops.enumerated() {
                w.beginObject()
                w.key("order"); w.number(s.order.rawValue)
                w.key("type"); w.string(s.kind.rawValue)
                let p = E7Point(s.point)
                w.key("lat"); w.number(p.latDegrees)
                w.key("lng"); w.number(p.lngDegrees)
                w.key("eta_ms"); w.number(k < etas.count ? etas[k] : clock.nowMs)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        })
    }

    /// Arrival at each stop: the last road computation when it matches the stops, else straight lines from the
    /// courier's position (until the next computation, at most a tick away).
    func routeETAs(_ plan: CourierPlan, position: LatLng?, nowMs: Int64) -> [Int64] {
        if plan.etaVersion == plan.version, plan.etaMs.count == plan.stops.count { return plan.etaMs }
        var points = [position ?? plan.stops.first?.point ?? LatLng(degrees: 0, 0)]
        points += plan.stops.map(\.point)
        let provider = StraightLineETAProvider()
        var legs: [Double] = []
        for k in 1..<points.count {
            legs.append((try? provider.etaSeconds(from: [points[k - 1]], to: [points[k]]))?.first ?? .infinity)
        }
        return PlanSchedule.arrivals(stops: plan.stops, details: plan.details, legSeconds: legs, startMs: nowMs,
                                     serviceSeconds: serviceSeconds).map { $0 == .max ? nowMs : $0 }
    }
}

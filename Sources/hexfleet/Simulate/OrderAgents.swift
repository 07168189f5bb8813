import Engine
import Foundation
import HexGeo
import JSON
import Routing

/// The online simulator's customers and couriers over the engine's HTTP API: customers create orders
/// (`POST /v1/orders`, Poisson over H3 zones); couriers watch their orders (`GET /v1/orders/{id}`), answer an offer
/// (`POST /v1/orders/{id}/accept?driver=ID` or `/decline`, with the configured probability, the promised ETA read from
/// `GET /v1/drivers/{id}/offers`), drive to the pick-up, report it (`/pickup`), drive to the drop-off and report
/// delivery (`/deliver`). All calls carry the admin token, acting for the courier.
///
/// Degrades clearly while endpoints are missing: only 201 answers count as created orders; the first refusal of
/// each endpoint is reported once on stderr with its status and error code, and the run goes on.
struct OrderAgents {
    private struct Tracked {
        var id: String
        var created: Int64
        var pickupNode: Int
        var dropoffNode: Int
        var courier = -1
        var phase = Phase.open
        var etaSeconds = 0.0
        enum Phase { case open, toPickup, atPickup, toDropoff, atDropoff, done }
    }

    private let config: OnlineSimulation.Config
    private let network: RoadNetwork
    private let mover: RoadMover
    private let http: SimHTTPClient
    private let progress: (String) -> Void
    private var demand: DemandModel
    private var rng: SimRandom
    private var open: [Tracked] = []
    private var answered = Set<String>()
    private var warned = Set<String>()
    private var nextPollMs: Int64 = 0
    private var customer = 0
    private var handoverUntil: [String: Int64] = [:]

    init(config: OnlineSimulation.Config, network: RoadNetwork, mover: RoadMover, http: SimHTTPClient,
         progress: @escaping (String) -> Void) {
        self.config = config
        self.network = network
        self.mover = mover
        self.http = http
        self.progress = progress
        demand = DemandModel(graph: network.graph, reachableNodes: mover.connectedNodes, ordersPerMinute: config.ordersPerMinute,
                             startMs: OnlineSimulation.wallMs, seed: config.seed, hotSpots: config.hotSpots)
        rng = SimRandom(seed: config.seed, stream: 5)
    }

    private mutating func warnOnce(_ what: String, _ r: SimHTTPClient.Response?) {
        guard warned.insert(what).inserted else { return }
        let code = ((r?.object?["error"] as? [String: Any])?["code"] as? String) ?? "-"
        progress("note: \(what) answered \(r.map { "\($0.status)" } ?? "no connection") (code \(code)); orders past this step are not counted")
    }

    /// `{"customer_id":…,"pickup":{"lat","lng"},"dropoff":{…}}`, coordinates to 1e-7° as the API stores them.
    private func orderBody(customer: Int, pickupNode: Int, dropoffNode: Int) -> String {
        var w = JSONWriter(capacity: 160)
        w.beginObject()
        w.key("customer_id"); w.number(customer)
        for (key, node) in [("pickup", pickupNode), ("dropoff", dropoffNode)] {
            let p = network.graph.coordinate(node)
            w.key(key); w.beginObject()
            w.key("lat"); w.raw(Array(String(format: "%.7f", p.latDegrees).utf8))
            w.key("lng"); w.raw(Array(String(format: "%.7f", p.lngDegrees).utf8))
            w.endObject()
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Creates due orders and moves every tracked order on; cheap when nothing is due.
    mutating func step(nowMs: Int64, status: inout [UInt8], report: inout SimReport) {
        while let d = demand.next(untilMs: nowMs) {
            customer += 1
            let body = orderBody(customer: customer, pickupNode: d.pickupNode, dropoffNode: d.dropoffNode)
            let r = try? http.request("POST", "/v1/orders", json: body,
                                      headers: [("Idempotency-Key", "sim-\(config.seed)-\(customer)")])
            if let r, r.status == 201, let id = SimHTTPClient.idText(r.object?["id"]) {
                report.ordersCreated += 1
                open.append(Tracked(id: id, created: d.atMs, pickupNode: d.pickupNode, dropoffNode: d.dropoffNode))
            } else {
                report.ordersFailed += 1
                warnOnce("POST /v1/orders", r)
            }
        }
        // Drive and report arrivals every step; poll offers once a second.
        for k in open.indices {
            var o = open[k]
            switch o.phase {
            case .toPickup where mover.isParked(o.courier, atMs: nowMs):
                o.phase = .atPickup
                report.waits.append(Double(nowMs - o.created) / 1000)
                handoverUntil[o.id] = nowMs + Int64(config.handoverSeconds * 1000)
            case .atPickup where nowMs >= handoverUntil[o.id] ?? 0:
                if transition(o.id, "pickup", courier: o.courier) {
                    mover.send(o.courier, toNode: o.dropoffNode, atMs: nowMs)
                    status[o.courier] = 3
                    o.phase = .toDropoff
                } else {
                    o.phase = .done
                    release(o.courier, nowMs: nowMs, status: &status)
                }
            case .toDropoff where mover.isParked(o.courier, atMs: nowMs):
                o.phase = .atDropoff
                handoverUntil[o.id] = nowMs + Int64(config.handoverSeconds * 1000)
            case .atDropoff where nowMs >= handoverUntil[o.id] ?? 0:
                if transition(o.id, "deliver", courier: o.courier) { report.ordersDelivered += 1 }
                o.phase = .done
                release(o.courier, nowMs: nowMs, status: &status)
            default: break
            }
            open[k] = o
        }
        open.removeAll { $0.phase == .done }
        guard nowMs >= nextPollMs else { return }
        nextPollMs = nowMs + 1_000
        for k in open.indices where open[k].phase == .open {
            let o = open[k]
            guard let r = try? http.request("GET", "/v1/orders/\(o.id)"), r.status == 200, let body = r.object else {
                warnOnce("GET /v1/orders/{id}", nil)
                continue
            }
            let state = body["status"] as? String ?? ""
            if state == "cancelled" || state == "failed" || state == "delivered" { open[k].phase = .done; continue }
            guard state == "dispatched", let courierID = (body["courier_id"] as? NSNumber)?.uint64Value,
                  courierID >= config.firstDriverID, courierID - config.firstDriverID < UInt64(config.drivers),
                  !answered.contains(o.id + "/\(courierID)") else { continue }
            answered.insert(o.id + "/\(courierID)")
            let courier = Int(courierID - config.firstDriverID)
            // The ETA the dispatcher promised, from the driver's poll endpoint (read before answering).
            var offeredETA: Double?
            if let r = try? http.request("GET", "/v1/drivers/\(courierID)/offers"), r.status == 200,
               let offers = r.object?["offers"] as? [[String: Any]],
               let offer = offers.first(where: { SimHTTPClient.idText($0["order"]) == o.id }) {
                offeredETA = (offer["pickup_eta_s"] as? NSNumber)?.doubleValue
            }
            if rng.chance(config.acceptProbability) {
                guard transition(o.id, "accept", courier: courier) else { continue }
                report.ordersAssigned += 1
                report.assignDelays.append(Double(nowMs - o.created) / 1000)
                let seconds = mover.send(courier, toNode: o.pickupNode, atMs: nowMs) ?? 0
                let eta = offeredETA ?? seconds
                report.pickupETAs.append(eta)
                status[courier] = 2
                open[k].courier = courier
                open[k].phase = .toPickup
            } else if transition(o.id, "decline", courier: courier) {
                report.offersDeclined += 1
            }
        }
        open.removeAll { $0.phase == .done }
    }

    private mutating func release(_ courier: Int, nowMs: Int64, status: inout [UInt8]) {
        status[courier] = 1
        mover.roam(courier, atMs: nowMs)
    }

    /// `POST /v1/orders/{id}/{action}?driver=ID` on behalf of the courier; whether the engine took it.
    private mutating func transition(_ id: String, _ action: String, courier: Int) -> Bool {
        let (ok, r) = http.courierAction(id, action, driver: config.firstDriverID + UInt64(courier))
        if !ok { warnOnce("POST /v1/orders/{id}/\(action)", r) }
        return ok
    }
}

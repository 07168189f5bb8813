import Foundation
import Testing
import TestSupport

/// Dispatch II end to end on real sockets, a real SQLite file and the Monaco graph: order timing, stacking onto one
/// courier, declined insertions, forward dispatch, the route endpoint and live ETAs.
@Suite(.serialized) struct StackedDispatchTests {
    typealias F = OrdersFixture
    /// A restaurant near the port, three customers around the casino, a courier base in Fontvieille (≈ 1 km away).
    static let restaurant = (lat: 43.7347, lng: 7.4206)
    static let customers = [(lat: 43.7396, lng: 7.4270), (lat: 43.7385, lng: 7.4255), (lat: 43.7405, lng: 7.4280)]
    static let fontvieille = (lat: 43.7290, lng: 7.4170)

    func ping(_ engine: TestEngine, _ driver: Int, _ at: (lat: Double, lng: Double), _ status: String = "available") throws {
        let body = #"{"lat":\#(at.lat),"lng":\#(at.lng),"ts":\#(engine.nowMs),"status":"\#(status)"}"#
        let r = try engine.post("/v1/drivers/\(driver)/location", body)
        #expect(r.status == 202, "\(r.text)")
    }

    func body(_ from: (lat: Double, lng: Double), _ to: (lat: Double, lng: Double), extra: String = "") -> String {
        #"{"customer_id":"71","pickup":{"lat":\#(from.lat),"lng":\#(from.lng)},"dropoff":{"lat":\#(to.lat),"lng":\#(to.lng)}\#(extra)}"#
    }

    func offers(_ engine: TestEngine, _ driver: Int) throws -> [UInt64] {
        let r = try engine.get("/v1/drivers/\(driver)/offers")
        return ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.compactMap { ($0["order"] as? NSNumber)?.uint64Value } ?? []
    }

    func route(_ engine: TestEngine, _ driver: Int, token: String? = TestEngine.admin) throws -> [[String: Any]] {
        let r = try F.request(engine, "GET", "/v1/drivers/\(driver)/route", token: token)
        #expect(r.status == 200, "\(r.text)")
        return (try F.object(r)["stops"] as? [[String: Any]]) ?? []
    }

    func order(_ engine: TestEngine, _ id: UInt64) throws -> [String: Any] {
        try F.object(try F.request(engine, "GET", "/v1/orders/\(id)"))
    }

    @Test("ready_in_s, deadline_s and max_ride_s are validated, stored, answered and survive a restart")
    func orderTiming() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        var id: UInt64 = 0
        do {
            let engine = try F.engine(dir: dir)
            defer { engine.close() }
            let timed = body(Self.restaurant, Self.customers[0], extra: #","ready_in_s":600,"deadline_s":2400,"max_ride_s":900"#)
            let created = try F.request(engine, "POST", "/v1/orders", timed, headers: [("Idempotency-Key", "t-1")])
            #expect(created.status == 201, "\(created.text)")
            id = try F.id(created)
            let o = try order(engine, id)
            #expect((o["ready_in_s"] as? NSNumber)?.intValue == 600)
            #expect((o["deadline_s"] as? NSNumber)?.intValue == 2400)
            #expect((o["max_ride_s"] as? NSNumber)?.intValue == 900)
            #expect(o["eta_pickup_ms"] is NSNull, "no courier yet")
            // The timing is part of the idempotency fingerprint.
            #expect(try F.request(engine, "POST", "/v1/orders", timed, headers: [("Idempotency-Key", "t-1")]).status == 200)
            let other = body(Self.restaurant, Self.customers[0], extra: #","ready_in_s":60"#)
            #expect(try F.request(engine, "POST", "/v1/orders", other, headers: [("Idempotency-Key", "t-1")]).errorCode == "idempotency_conflict")
            // Without timing the fields are null.
            let plain = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[1])))
            #expect(try order(engine, plain)["ready_in_s"] is NSNull)
            // Bad values: 400 invalid_order_timing, nothing created.
            for bad in [#","ready_in_s":-1"#, #","ready_in_s":1.5"#, #","deadline_s":"600""#, #","deadline_s":0"#,
                        #","max_ride_s":86401"#, #","ready_in_s":900,"deadline_s":600"#, #","max_ride_s":true"#,
                        #","deadline_s":1e3"#] {
                let r = try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0], extra: bad))
                #expect(r.status == 400, "\(bad): \(r.text)")
                #expect(r.errorCode == "invalid_order_timing", "\(bad)")
            }
        }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let o = try order(engine, id)
        #expect((o["ready_in_s"] as? NSNumber)?.intValue == 600, "stored durably")
        #expect((o["max_ride_s"] as? NSNumber)?.intValue == 900)
    }

    @Test("three orders from one restaurant stack onto the one nearby courier, who accepts each; a fourth exceeds a car's capacity")
    func threeOrdersStack() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
        try ping(engine, 62, Self.fontvieille)
        let d61 = try F.token(engine, "driver", "61")
        var ids: [UInt64] = []
        for customer in Self.customers {
            let id = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, customer)))
            ids.append(id)
            #expect(try eventually { try offers(engine, 61) == [id] }, "order \(ids.count) is offered to the courier already holding \(ids.count - 1)")
            #expect(try offers(engine, 62).isEmpty)
            #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)
            #expect(try eventually { try F.status(engine, id) == "accepted" })
        }
        let stops = try route(engine, 61, token: d61)
        #expect(stops.count == 6)
        #expect(Set(stops.compactMap { ($0["order"] as? NSNumber)?.uint64Value }) == Set(ids))
        for id in ids {
            let kinds = stops.filter { ($0["order"] as? NSNumber)?.uint64Value == id }.compactMap { $0["type"] as? String }
            #expect(kinds == ["pickup", "dropoff"], "pickup before drop-off for \(id)")
        }
        #expect(stops.allSatisfy { $0["eta_ms"] is NSNumber && $0["lat"] is NSNumber && $0["lng"] is NSNumber })
        // Capacity 3: the fourth order goes to the other courier.
        let fourth = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0])))
        #expect(try eventually { try offers(engine, 62) == [fourth] })
        #expect(try offers(engine, 61).isEmpty)
        // Picking one up takes its pickup off the route, the drop-off order kept.
        #expect(try F.request(engine, "POST", "/v1/orders/\(ids[1])/pickup", token: d61).status == 200)
        let after = try route(engine, 61, token: d61)
        #expect(after.count == 5)
        let before = stops.filter { !(($0["order"] as? NSNumber)?.uint64Value == ids[1] && $0["type"] as? String == "pickup") }
        #expect(after.map { "\($0["order"]!)-\($0["type"]!)" } == before.map { "\($0["order"]!)-\($0["type"]!)" })
        let stats = try F.object(try engine.get("/v1/dispatch/stats"))
        #expect((stats["stacked_offers"] as? NSNumber)?.intValue ?? 0 >= 2)
    }

    @Test("after a restart each accepted order is back on its courier's route; picked-up ones as drop-offs only")
    func restartKeepsPlans() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        var ids: [UInt64] = []
        do {
            let engine = try F.engine(dir: dir)
            defer { engine.close() }
            try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
            let d61 = try F.token(engine, "driver", "61")
            for customer in Self.customers.prefix(2) {
                let id = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, customer)))
                ids.append(id)
                #expect(try eventually { try offers(engine, 61) == [id] })
                #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)
                #expect(try eventually { try F.status(engine, id) == "accepted" })
            }
            #expect(try F.request(engine, "POST", "/v1/orders/\(ids[0])/pickup", token: d61).status == 200)
        }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let stops = try route(engine, 61).map { "\($0["order"]!)-\($0["type"]!)" }
        #expect(stops == ["\(ids[0])-dropoff", "\(ids[1])-pickup", "\(ids[1])-dropoff"])
    }

    @Test("many orders, few couriers, random accepts and declines: every accepted order on exactly one route, pickup first, within capacity")
    func stackingUnderLoad() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let couriers = Array(61...66)
        var tokens: [Int: String] = [:]
        var rng = SeededRandom(seed: 18)
        for (k, d) in couriers.enumerated() {
            try ping(engine, d, (43.728 + Double(k) * 0.002, 7.416 + Double(k % 3) * 0.003))
            tokens[d] = try F.token(engine, "driver", "\(d)")
        }
        var ids: [UInt64] = []
        for k in 0..<15 {
            let to = Self.customers[k % 3]
            ids.append(try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, (to.lat + Double(k) * 0.0002, to.lng)))))
        }
        var accepted: [UInt64: Int] = [:], declines = 0
        let until = Date().addingTimeInterval(60)
        while accepted.count < ids.count, Date() < until {
            for d in couriers {
                guard let offered = try offers(engine, d).first else { continue }
                if declines < 5, rng.next() % 4 == 0 {
                    if try engine.post("/v1/orders/\(offered)/decline", "{}", token: tokens[d]).status == 200 { declines += 1 }
                } else if try engine.post("/v1/orders/\(offered)/accept", "{}", token: tokens[d]).status == 200 {
                    #expect(accepted[offered] == nil, "order \(offered) accepted twice")
                    accepted[offered] = d
                }
            }
            Thread.sleep(forTimeInterval: 0.03)
        }
        #expect(accepted.count == ids.count, "accepted \(accepted.count) of \(ids.count)")
        var seen: [UInt64: Int] = [:]
        for d in couriers {
            let stops = try route(engine, d)
            let orders = Set(stops.compactMap { ($0["order"] as? NSNumber)?.uint64Value })
            #expect(orders.count <= 3, "courier \(d) holds \(orders.count) orders, a car carries 3")
            var load = 0
            for s in stops {
                load += s["type"] as? String == "pickup" ? 1 : -1
                #expect(load <= 3 && load >= 0, "courier \(d): load \(load)")
            }
            for o in orders {
                #expect(seen.updateValue(d, forKey: o) == nil, "order \(o) on two routes")
                #expect(accepted[o] == d, "order \(o) on courier \(d)'s route, accepted by \(accepted[o].map(String.init) ?? "nobody")")
                let kinds = stops.filter { ($0["order"] as? NSNumber)?.uint64Value == o }.compactMap { $0["type"] as? String }
                #expect(kinds == ["pickup", "dropoff"])
            }
        }
        #expect(Set(seen.keys) == Set(accepted.keys), "every accepted order is planned")
    }

    @Test("a declined insertion never returns to that courier, and its route is unchanged")
    func declinedInsertion() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
        let d61 = try F.token(engine, "driver", "61")
        let first = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0])))
        #expect(try eventually { try offers(engine, 61) == [first] })
        #expect(try engine.post("/v1/orders/\(first)/accept", "{}", token: d61).status == 200)
        #expect(try eventually { try F.status(engine, first) == "accepted" })
        let routeBefore = try route(engine, 61)

        let second = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[1])))
        #expect(try eventually { try offers(engine, 61) == [second] }, "stacked onto the courier holding the first")
        #expect(try engine.post("/v1/orders/\(second)/decline", "{}", token: d61).status == 200)
        #expect(try route(engine, 61).count == routeBefore.count, "a declined insertion changes nothing")
        // Another courier appears; the order goes to it, never back to 61.
        try ping(engine, 62, Self.fontvieille)
        var sawAgain = false
        #expect(try eventually {
            if try offers(engine, 61).contains(second) { sawAgain = true }
            return try offers(engine, 62) == [second]
        })
        let d62 = try F.token(engine, "driver", "62")
        #expect(try engine.post("/v1/orders/\(second)/decline", "{}", token: d62).status == 200)
        // Rounds run every 100 ms: over 1.5 s the order waits, offered to nobody.
        let until = Date().addingTimeInterval(1.5)
        while Date() < until {
            if try offers(engine, 61).contains(second) { sawAgain = true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(!sawAgain)
        #expect(try F.status(engine, second) == "quoted")
    }

    @Test("a stacking round holds an order until its food is at most 10 minutes from ready; one nearer ready goes out")
    func holdsUntilNearReady() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
        try ping(engine, 62, (Self.restaurant.lat - 0.0003, Self.restaurant.lng - 0.0003))
        let held = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0], extra: #","ready_in_s":1200"#)))
        let heldStatus = try F.status(engine, held)
        let due = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[1], extra: #","ready_in_s":300"#)))
        #expect(try eventually { try offers(engine, 61) + offers(engine, 62) == [due] })
        // Rounds run every 100 ms: ten of them later the order 20 minutes from ready is still offered to nobody,
        // although the other courier is free and next to its restaurant.
        Thread.sleep(forTimeInterval: 1)
        #expect(try offers(engine, 61) + offers(engine, 62) == [due])
        #expect(try F.status(engine, held) == heldStatus)
    }

    @Test("a courier on trip near its drop-off gets the next pickup there before an idle courier farther away")
    func forwardDispatch() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
        let d61 = try F.token(engine, "driver", "61")
        let first = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0])))
        #expect(try eventually { try offers(engine, 61) == [first] })
        #expect(try engine.post("/v1/orders/\(first)/accept", "{}", token: d61).status == 200)
        #expect(try eventually { try F.status(engine, first) == "accepted" })
        #expect(try F.request(engine, "POST", "/v1/orders/\(first)/pickup", token: d61).status == 200)
        // On trip, 150 m before the drop-off; an idle courier waits in Fontvieille.
        try ping(engine, 61, (Self.customers[0].lat - 0.001, Self.customers[0].lng - 0.001), "on_trip")
        try ping(engine, 62, Self.fontvieille)
        let next = try F.id(try F.request(engine, "POST", "/v1/orders", body((43.7400, 7.4275), (43.7440, 7.4310))))
        #expect(try eventually { try offers(engine, 61) == [next] })
        #expect(try offers(engine, 62).isEmpty)
        #expect(try engine.post("/v1/orders/\(next)/accept", "{}", token: d61).status == 200)
        let stops = try route(engine, 61)
        #expect(stops.compactMap { ($0["order"] as? NSNumber)?.uint64Value }.first == first, "the drop-off on board comes first")
        #expect(stops.count == 3)
    }

    @Test("ETAs follow the courier's pings: GET /v1/orders/{id} and eta messages to the order's watchers")
    func liveETAs() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, (Self.restaurant.lat + 0.0003, Self.restaurant.lng + 0.0003))
        let d61 = try F.token(engine, "driver", "61")
        let alice = try F.token(engine, "customer", "71")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0]), token: alice))
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(alice)")
        try ws.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        _ = try ws.readJSON(type: "subscribed")
        #expect(try eventually { try offers(engine, 61) == [id] })
        #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)

        let first = try ws.readJSON(type: "eta")
        #expect((first["order"] as? NSNumber)?.uint64Value == id)
        let pickup0 = try #require((first["eta_pickup_ms"] as? NSNumber)?.int64Value)
        let dropoff0 = try #require((first["eta_dropoff_ms"] as? NSNumber)?.int64Value)
        #expect(dropoff0 > pickup0)
        #expect(pickup0 >= engine.nowMs - 5_000 && pickup0 < engine.nowMs + 300_000)
        var o = try order(engine, id)
        #expect((o["eta_pickup_ms"] as? NSNumber)?.int64Value == pickup0)
        #expect((o["eta_dropoff_ms"] as? NSNumber)?.int64Value == dropoff0)

        // The courier turns up in Fontvieille: the pickup is now minutes away.
        try ping(engine, 61, Self.fontvieille, "to_pickup")
        let moved = try ws.readJSON(type: "eta")
        let pickup1 = try #require((moved["eta_pickup_ms"] as? NSNumber)?.int64Value)
        #expect(pickup1 - pickup0 >= 15_000, "moved by at least 15 s")
        #expect(try eventually {
            o = try order(engine, id)
            return (o["eta_pickup_ms"] as? NSNumber)?.int64Value == pickup1
        })
        // After the pickup only the drop-off is estimated.
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61).status == 200)
        #expect(try eventually { try order(engine, id)["eta_pickup_ms"] is NSNull })
        #expect(try order(engine, id)["eta_dropoff_ms"] is NSNumber)
    }

    @Test("on road times (the default), a stacking round's offer carries its insertion point and a road pickup ETA")
    func roadRound() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
            #expect($0.straightLineETA == false && $0.dispatchStacking, "road times and stacking are the defaults")
        })
        defer { engine.close() }
        F.noteGraphCache(in: dir)
        let courier = (lat: 43.7311, lng: 7.4197)
        try ping(engine, 61, courier)
        let d61 = try F.token(engine, "driver", "61")
        let first = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[0])))
        var offer: [String: Any] = [:]
        #expect(try eventually(within: 30) {
            offer = ((try engine.get("/v1/drivers/61/offers", token: d61).json as? [String: Any])?["offers"] as? [[String: Any]])?.first ?? [:]
            return (offer["order"] as? NSNumber)?.uint64Value == first
        })
        #expect((offer["pickup_index"] as? NSNumber)?.intValue == 0 && (offer["dropoff_index"] as? NSNumber)?.intValue == 0,
                "an empty route: pickup then drop-off")
        let pickupETA = try #require((offer["pickup_eta_s"] as? NSNumber)?.doubleValue)
        let eta = try engine.get("/v1/eta?from=\(courier.lat),\(courier.lng)&to=\(Self.restaurant.lat),\(Self.restaurant.lng)")
        let road = try #require((eta.json as? [String: Any])?["duration_s"] as? Double)
        // The same snapped points and weights as /v1/eta: the same seconds, not a node-to-node approximation.
        #expect(abs(pickupETA - road) < 0.01, "offer \(pickupETA) s, road \(road) s")
        #expect(try engine.post("/v1/orders/\(first)/accept", "{}", token: d61).status == 200)
        // The second order from the restaurant goes after the first pickup: an insertion inside the route.
        let second = try F.id(try F.request(engine, "POST", "/v1/orders", body(Self.restaurant, Self.customers[1])))
        #expect(try eventually(within: 30) {
            offer = ((try engine.get("/v1/drivers/61/offers", token: d61).json as? [String: Any])?["offers"] as? [[String: Any]])?.first ?? [:]
            return (offer["order"] as? NSNumber)?.uint64Value == second
        })
        let i = try #require((offer["pickup_index"] as? NSNumber)?.intValue), j = try #require((offer["dropoff_index"] as? NSNumber)?.intValue)
        #expect(i <= 1 && j >= i && j <= 2, "pickup \(i), drop-off \(j) in a two-stop route")
        let stats = try F.object(try engine.get("/v1/dispatch/stats"))
        #expect((stats["round_errors"] as? NSNumber)?.intValue == 0)
        #expect(stats["eta"] as? String == "routing")
    }

    @Test("GET /v1/drivers/{id}/route: the driver itself, dispatchers and admins; others 403; unknown 404")
    func routeAuth() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        try ping(engine, 61, Self.restaurant)
        let d61 = try F.token(engine, "driver", "61"), d62 = try F.token(engine, "driver", "62")
        let alice = try F.token(engine, "customer", "71"), ops = try F.token(engine, "dispatcher", "1")
        #expect(try route(engine, 61, token: d61).isEmpty, "no orders yet: no stops")
        let mine = try F.object(try F.request(engine, "GET", "/v1/drivers/61/route", token: d61))
        #expect((mine["driver"] as? NSNumber)?.intValue == 61)
        #expect(try F.request(engine, "GET", "/v1/drivers/61/route", token: ops).status == 200)
        #expect(try F.request(engine, "GET", "/v1/drivers/61/route").status == 200)
        #expect(try F.request(engine, "GET", "/v1/drivers/61/route", token: d62).errorCode == "forbidden")
        #expect(try F.request(engine, "GET", "/v1/drivers/61/route", token: alice).errorCode == "forbidden")
        #expect(try F.request(engine, "GET", "/v1/drivers/61/route", token: nil).status == 401)
        #expect(try F.request(engine, "GET", "/v1/drivers/9999/route").errorCode == "driver_not_found")
        #expect(try F.request(engine, "GET", "/v1/drivers/x/route").status == 400)
    }

    @Test("a quote promises a delivery time: ready time, nearest courier, route; null with no courier near")
    func quotePromise() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let none = try F.object(try F.request(engine, "POST", "/v1/quotes", body(Self.restaurant, Self.customers[0])))
        #expect(none["promise_ms"] is NSNull)
        try ping(engine, 61, Self.restaurant)
        let now = engine.nowMs
        let quote = try F.object(try F.request(engine, "POST", "/v1/quotes", body(Self.restaurant, Self.customers[0])))
        let promise = try #require((quote["promise_ms"] as? NSNumber)?.int64Value)
        let trip = try #require((quote["duration_s"] as? NSNumber)?.int64Value)
        #expect(promise >= now + trip * 1000 && promise < now + trip * 1000 + 600_000)
        let later = try F.object(try F.request(engine, "POST", "/v1/quotes", body(Self.restaurant, Self.customers[0], extra: #","ready_in_s":1200"#)))
        let waited = try #require((later["promise_ms"] as? NSNumber)?.int64Value)
        #expect(waited >= now + 1_200_000 + trip * 1000, "the food is ready in 20 min")
        #expect(try F.request(engine, "POST", "/v1/quotes", body(Self.restaurant, Self.customers[0], extra: #","ready_in_s":-5"#)).errorCode == "invalid_order_timing")
    }
}

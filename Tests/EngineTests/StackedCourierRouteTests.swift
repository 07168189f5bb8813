import Foundation
import Testing
import TestSupport

/// A stacked courier's day end to end through a running engine (real sockets, real SQLite, the Monaco graph with
/// road travel times): two orders from one restaurant offered to the one courier in turn, its route with ETAs, and
/// the courier driving that route stop by stop until both are delivered in the route's order.
@Suite(.serialized) struct StackedCourierRouteTests {
    typealias F = OrdersFixture
    static let restaurant = (lat: 43.7347, lng: 7.4206)
    /// Two customers a few hundred metres apart near the casino, one way from the restaurant.
    static let customers = [(lat: 43.7396, lng: 7.4270), (lat: 43.7405, lng: 7.4280)]
    static let courier = 81

    /// An engine on Monaco with stacking on and road travel times (not straight lines) for insertions and ETAs.
    func engine(dir: String) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.dispatchStacking = true
            $0.graphPath = F.monaco
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
        })
        F.noteGraphCache(in: dir)
        return engine
    }

    func ping(_ engine: TestEngine, _ at: (lat: Double, lng: Double), _ status: String) throws {
        let body = #"{"lat":\#(at.lat),"lng":\#(at.lng),"ts":\#(engine.nowMs),"status":"\#(status)"}"#
        let r = try engine.post("/v1/drivers/\(Self.courier)/location", body)
        #expect(r.status == 202, "\(r.text)")
    }

    func offer(_ engine: TestEngine) throws -> [String: Any]? {
        let r = try engine.get("/v1/drivers/\(Self.courier)/offers")
        return ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.first
    }

    /// The courier's route as `ORDER-type` labels, with each stop.
    func route(_ engine: TestEngine, token: String) throws -> [(label: String, stop: [String: Any])] {
        let r = try F.request(engine, "GET", "/v1/drivers/\(Self.courier)/route", token: token)
        #expect(r.status == 200, "\(r.text)")
        let stops = (try F.object(r)["stops"] as? [[String: Any]]) ?? []
        return stops.map { ("\(($0["order"] as? NSNumber)?.uint64Value ?? 0)-\($0["type"] as? String ?? "?")", $0) }
    }

    @Test("two orders at one restaurant stack onto one courier in turn: pickup, pickup, drop-off, drop-off with ETAs, delivered in that order")
    func twoOrdersOneCourier() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try engine(dir: dir)
        defer { engine.close() }
        let token = try F.token(engine, "driver", "\(Self.courier)")
        try ping(engine, (Self.restaurant.lat + 0.0002, Self.restaurant.lng + 0.0002), "available")
        let timing = #","ready_in_s":0,"deadline_s":2700,"max_ride_s":2400"#
        func place(_ to: (lat: Double, lng: Double)) throws -> UInt64 {
            let body = #"{"customer_id":"81","pickup":{"lat":\#(Self.restaurant.lat),"lng":\#(Self.restaurant.lng)},"dropoff":{"lat":\#(to.lat),"lng":\#(to.lng)}\#(timing)}"#
            let r = try F.request(engine, "POST", "/v1/orders", body)
            #expect(r.status == 201, "\(r.text)")
            return try F.id(r)
        }

        // First order: offered to the only courier, accepted; its route is its pickup then its drop-off.
        let first = try place(Self.customers[0])
        #expect(try eventually(within: 20) { (try offer(engine)?["order"] as? NSNumber)?.uint64Value == first })
        #expect(try engine.post("/v1/orders/\(first)/accept", "{}", token: token).status == 200)
        #expect(try eventually { try F.status(engine, first) == "accepted" })
        let before = try route(engine, token: token).map(\.label)
        #expect(before == ["\(first)-pickup", "\(first)-dropoff"])

        // Second order: offered to the same courier (it has room) at an insertion point into that route.
        let second = try place(Self.customers[1])
        var offered: [String: Any]?
        #expect(try eventually(within: 20) {
            offered = try offer(engine)
            return (offered?["order"] as? NSNumber)?.uint64Value == second
        }, "the second order is offered to the courier already holding the first")
        let pickupIndex = try #require((offered?["pickup_index"] as? NSNumber)?.intValue, "a stacked offer names its insertion")
        let dropoffIndex = try #require((offered?["dropoff_index"] as? NSNumber)?.intValue)
        #expect(try engine.post("/v1/orders/\(second)/accept", "{}", token: token).status == 200)
        #expect(try eventually { try F.status(engine, second) == "accepted" })

        // The route has the second order where it was offered: both pickups (one restaurant), then both drop-offs.
        var expected = before
        expected.insert("\(second)-pickup", at: pickupIndex)
        expected.insert("\(second)-dropoff", at: dropoffIndex + 1)
        var stops = try route(engine, token: token)
        #expect(stops.map(\.label) == expected)
        #expect(stops.map { $0.stop["type"] as? String ?? "" } == ["pickup", "pickup", "dropoff", "dropoff"], "\(stops.map(\.label))")
        // ETAs: arrival at each stop, in visiting order, none before now (the road computation follows within a tick).
        let now = engine.nowMs
        #expect(try eventually {
            stops = try route(engine, token: token)
            let etas = stops.compactMap { ($0.stop["eta_ms"] as? NSNumber)?.int64Value }
            return etas.count == 4 && etas == etas.sorted() && etas[0] >= now - 1_000 && etas[3] > etas[0]
        }, "\(stops.map { $0.stop["eta_ms"] ?? "-" })")
        // Each order's live ETAs follow from the road computation along that route (at most a second after the change).
        for id in [first, second] {
            var o: [String: Any] = [:]
            #expect(try eventually {
                o = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)"))
                return o["eta_pickup_ms"] is NSNumber && o["eta_dropoff_ms"] is NSNumber
            }, "order \(id): \(o)")
        }

        // The courier drives the route: at each stop it reports where it is, then the pickup or the delivery.
        let order = stops.map(\.label)
        var delivered: [UInt64] = []
        for (k, label) in order.enumerated() {
            let current = try route(engine, token: token)
            #expect(current.first?.label == label, "stop \(k) is next on the route")
            let stop = try #require(current.first?.stop)
            let id = try #require((stop["order"] as? NSNumber)?.uint64Value)
            let at = (lat: try #require(stop["lat"] as? Double), lng: try #require(stop["lng"] as? Double))
            let pickup = stop["type"] as? String == "pickup"
            try ping(engine, at, k < 2 ? "to_pickup" : "on_trip")
            let r = try F.request(engine, "POST", "/v1/orders/\(id)/\(pickup ? "pickup" : "deliver")", token: token)
            #expect(r.status == 200, "\(label): \(r.text)")
            #expect(try eventually { try F.status(engine, id) == (pickup ? "picked_up" : "delivered") }, "\(label)")
            if !pickup { delivered.append(id) }
            #expect(try eventually { try route(engine, token: token).map(\.label) == Array(order.dropFirst(k + 1)) },
                    "the served stop leaves the route, the rest keep their order")
        }
        #expect(delivered == order.suffix(2).compactMap { UInt64($0.split(separator: "-")[0]) })
        #expect(Set(delivered) == [first, second])
        // Both deliveries are in the orders' timelines, in the route's order.
        let times = try delivered.map { id -> Int64 in
            let events = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)/events"))["events"] as? [[String: Any]] ?? []
            return try #require((events.last { $0["to"] as? String == "delivered" }?["at_ms"] as? NSNumber)?.int64Value, "\(events)")
        }
        #expect(times == times.sorted(), "\(times)")
        // The courier is free again: its route is empty.
        #expect(try route(engine, token: token).isEmpty)
    }
}

import Foundation
import Testing
import TestSupport

/// Order arrivals over real sockets: the accepted courier's pings reaching the pick-up and then the drop-off area are
/// `arrived_pickup` and `arrived_dropoff` on the order, seen by the customer following it.
@Suite(.serialized) struct OrderArrivalTests {
    typealias F = OrdersFixture

    @Test("the courier entering the pick-up and drop-off areas is arrived_pickup, then arrived_dropoff, each once")
    func arrivals() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        var ts = engine.nowMs
        func ping(_ lat: Double, _ lng: Double) throws {
            ts += 1_000
            let body = #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(ts),"status":"available"}"#
            #expect(try engine.post("/v1/drivers/67/location", body, token: TestEngine.admin).status == 202)
        }
        try ping(F.pickup.lat + 0.004, F.pickup.lng)          // ~450 m north of the pick-up
        let alice = try F.token(engine, "customer", "77")
        let d67 = try F.token(engine, "driver", "67")
        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(d67)")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        _ = try driver.readJSON(type: "offer")
        let customer = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(alice)")
        try customer.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        _ = try customer.readJSON(type: "subscribed")
        try driver.send(text: #"{"op":"accept","order":\#(id)}"#)
        _ = try driver.readJSON(type: "offer_accepted")
        #expect(try eventually { try F.status(engine, id) == "accepted" })
        Thread.sleep(forTimeInterval: 1.2)                    // the fence service picks up targets once a second
        try ping(F.pickup.lat + 0.0002, F.pickup.lng)         // ~22 m away: arrived
        let first = try customer.readJSON(type: "order_event")
        #expect(first["event"] as? String == "arrived_pickup" && (first["order"] as? NSNumber)?.uint64Value == id)
        #expect((first["courier"] as? NSNumber)?.uint64Value == 67)
        try ping(F.pickup.lat, F.pickup.lng)                  // still there: nothing more
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d67).status == 200)
        Thread.sleep(forTimeInterval: 1.2)
        try ping(F.dropoff.lat - 0.0003, F.dropoff.lng)       // ~33 m from the drop-off
        let second = try customer.readJSON(type: "order_event")
        #expect(second["event"] as? String == "arrived_dropoff")
    }
}

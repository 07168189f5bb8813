import Foundation
import Testing
import TestSupport

/// Order events over WebSocket: the courier's driver channel gets the offer and the order's changes, and the
/// customer following its order on /v1/ws/track gets every change and the notifications, over real sockets.
@Suite(.serialized) struct OrdersTrackingTests {
    typealias F = OrdersFixture

    /// Reads `{"type":"order"}` events until one shows `status`.
    func readOrder(_ ws: TrackingTestClient, status: String) throws -> [String: Any] {
        while true {
            let m = try ws.readJSON(type: "order")
            if let order = m["order"] as? [String: Any], order["status"] as? String == status { return order }
        }
    }

    @Test("the courier's channel and the customer's order subscription see the order move; notifications follow")
    func eventsOverWebSockets() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let ping = #"{"lat":\#(F.pickup.lat),"lng":\#(F.pickup.lng),"ts":\#(engine.nowMs),"status":"available"}"#
        #expect(try engine.post("/v1/drivers/65/location", ping).status == 202)
        let alice = try F.token(engine, "customer", "75"), bob = try F.token(engine, "customer", "76")
        let d65 = try F.token(engine, "driver", "65")
        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(d65)")
        #expect(driver.status == 101)

        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        let offer = try driver.readJSON(type: "offer")
        #expect((offer["order"] as? NSNumber)?.uint64Value == id)
        #expect((try readOrder(driver, status: "dispatched"))["courier_id"] as? NSNumber == 65)

        // Only the order's customer may follow it.
        let other = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(bob)")
        try other.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        #expect((try other.readJSON(type: "error"))["code"] as? String == "forbidden")
        let customer = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(alice)")
        try customer.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        #expect((try customer.readJSON(type: "subscribed"))["order"] as? NSNumber == NSNumber(value: id))

        try driver.send(text: #"{"op":"accept","order":\#(id)}"#)
        // The answer comes once the accept is written, as does the order's update: either may come first.
        var sawAnswer = false, sawUpdate = false
        while !(sawAnswer && sawUpdate) {
            let m = try driver.readJSON()
            if m["type"] as? String == "offer_accepted" {
                #expect(m["order"] as? NSNumber == NSNumber(value: id))
                sawAnswer = true
            }
            if m["type"] as? String == "order", (m["order"] as? [String: Any])?["status"] as? String == "accepted" { sawUpdate = true }
        }
        let accepted = try readOrder(customer, status: "accepted")
        #expect(accepted["courier_id"] as? NSNumber == 65)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d65).status == 200)
        _ = try readOrder(customer, status: "picked_up")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d65).status == 200)
        // The order event and the notifier's (WebSocket sink) message both reach the watcher, in either order.
        var sawEvent = false, sawNotification = false
        while !(sawEvent && sawNotification) {
            let m = try customer.readJSON()
            if m["type"] as? String == "order", (m["order"] as? [String: Any])?["status"] as? String == "delivered" { sawEvent = true }
            if m["type"] as? String == "notification", (m["payload"] as? [String: Any])?["status"] as? String == "delivered" {
                #expect(m["event"] as? String == "order.status_changed")
                sawNotification = true
            }
        }
    }

    @Test("following an order no longer live: its customer is looked up in the store (off the loop), others refused")
    func followsAFinishedOrder() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let alice = try F.token(engine, "customer", "85"), bob = try F.token(engine, "customer", "86")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", token: alice).status == 200)
        let other = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(bob)")
        try other.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        #expect((try other.readJSON(type: "error"))["code"] as? String == "forbidden")
        let customer = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(alice)")
        try customer.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        #expect((try customer.readJSON(type: "subscribed"))["order"] as? NSNumber == NSNumber(value: id))
        // An order that never existed is refused the same way, and the connection keeps answering.
        try customer.send(text: #"{"op":"subscribe","order":987654321}"#)
        #expect((try customer.readJSON(type: "error"))["code"] as? String == "forbidden")
        try customer.send(text: #"{"op":"unsubscribe","order":\#(id)}"#)
        #expect((try customer.readJSON(type: "unsubscribed"))["order"] as? NSNumber == NSNumber(value: id))
    }
}

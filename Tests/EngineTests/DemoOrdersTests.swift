import Foundation
import Testing
import TestSupport

/// The demo is a client of the real services: its orders are durable orders placed through the orders service,
/// dispatched by the same rounds, accepted by its couriers through dispatch, and picked up and delivered through
/// the orders service, so `GET /v1/orders` shows them like any customer's.
@Suite struct DemoOrdersTests {
    @Test("demo orders are durable orders: listed, read back by id, dispatched to and accepted by demo couriers")
    func demoOrdersAreRealOrders() throws {
        let engine = try TestEngine(configure: { $0.demo = true; $0.demoDrivers = 60 })
        defer { engine.close() }
        func orders(_ query: String) throws -> [[String: Any]] {
            let r = try engine.get("/v1/orders?limit=100" + query)
            guard r.status == 200 else { return [] }
            return ((r.json as? [String: Any])?["orders"] as? [[String: Any]]) ?? []
        }
        // The demo places an order every 1.5–5 s; its couriers answer offers within 0.8–3 s.
        var accepted: [String: Any]?
        #expect(try eventually(within: 90) {
            accepted = try orders("&status=accepted,picked_up,delivered").first
            return accepted != nil
        }, "a demo order was accepted by a demo courier")
        let order = try #require(accepted)
        #expect(order["customer_id"] as? String == "900000", "placed for the demo customer")
        let courier = try #require(order["courier_id"] as? Int)
        #expect(courier >= 900_000 && courier < 900_060, "held by a demo courier, got \(courier)")
        #expect((order["price_cents"] as? Int ?? 0) > 0, "priced on the road network like a customer's order")
        // The order is in the store, not only in memory: a fetch by id reads it back.
        let id = try #require(order["id"] as? Int)
        let fetched = try engine.get("/v1/orders/\(id)")
        #expect(fetched.status == 200)
        #expect((fetched.json as? [String: Any])?["courier_id"] as? Int == courier)
        // Its courier is busy in dispatch's book as for any accepted order.
        let stats = try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
        #expect((stats["assigned"] as? Int ?? 0) >= 1)
    }
}

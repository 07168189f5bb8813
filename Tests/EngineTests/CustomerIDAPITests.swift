import Foundation
import Testing
import TestSupport

/// Opaque customer ids over the real API and a real SQLite file: a UUID customer orders, is served, rates and is
/// rated, and reads its rating; malformed ids are refused with `invalid_customer_id`.
@Suite(.serialized) struct CustomerIDAPITests {
    typealias F = OrdersFixture

    @Test("a UUID customer orders, lists, cancels, rates and is rated; its id comes back exactly as given")
    func uuidCustomer() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let uuid = "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f"
        let alice = try F.token(engine, "customer", uuid)
        let dotted = try F.token(engine, "customer", "cust.42@shop:eu")
        let now = engine.nowMs
        let ping = #"{"lat":\#(F.pickup.lat + 0.0005),"lng":\#(F.pickup.lng + 0.0005),"ts":\#(now),"status":"available"}"#
        #expect(try engine.post("/v1/drivers/81/location", ping).status == 202)
        let d81 = try F.token(engine, "driver", "81")

        let created = try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: uuid), token: alice)
        #expect(created.status == 201, "\(created.text)")
        #expect(try F.object(created)["customer_id"] as? String == uuid)
        let id = try F.id(created)
        let listed = try F.object(try F.request(engine, "GET", "/v1/orders?customer_id=\(uuid)"))
        #expect((listed["orders"] as? [[String: Any]])?.map { $0["customer_id"] as? String } == [uuid])
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: dotted).errorCode == "order_not_found",
                "another customer (whose id has dots, colons and @) does not see it")

        // A second order, by the dotted customer, is cancelled by it: its actor id is written and read back as text.
        let other = try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: dotted)
        #expect(try F.object(other)["customer_id"] as? String == "cust.42@shop:eu", "\(other.text)")
        #expect(try F.request(engine, "POST", "/v1/orders/\(try F.id(other))/cancel", token: dotted).status == 200)

        #expect(try eventually { try F.status(engine, id) == "dispatched" })
        #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d81).status == 200)
        #expect(try eventually { try F.status(engine, id) == "accepted" })
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d81).status == 200)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d81).status == 200)
        let rated = try F.object(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":5}"#, token: alice))
        #expect(rated["rater_id"] as? String == uuid && rated["subject_id"] as? String == "81")
        let back = try F.object(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":3}"#, token: d81))
        #expect(back["subject_id"] as? String == uuid)
        let summary = try F.object(try F.request(engine, "GET", "/v1/customers/\(uuid)/rating"))
        #expect(summary["id"] as? String == uuid && (summary["count"] as? NSNumber)?.intValue == 1)
        #expect((summary["mean"] as? NSNumber)?.doubleValue == 3)
    }

    @Test("malformed customer ids are refused with 400 invalid_customer_id; a JSON number is still a (decimal) id")
    func invalidIDs() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        for bad in ["", "has space", "ümlaut", "semi;colon", "slash/id", String(repeating: "a", count: 65)] {
            let r = try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: bad))
            #expect(r.status == 400 && r.errorCode == "invalid_customer_id", "\(bad): \(r.text)")
        }
        let longest = String(repeating: "b", count: 64)
        #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: longest)).status == 201, "64 bytes is the limit")
        let pickup = #""pickup":{"lat":\#(F.pickup.lat),"lng":\#(F.pickup.lng)},"dropoff":{"lat":\#(F.dropoff.lat),"lng":\#(F.dropoff.lng)}"#
        for bad in ["-3", "1.5", "true", "{}", "[\"a\"]"] {
            let r = try F.request(engine, "POST", "/v1/orders", #"{"customer_id":\#(bad),\#(pickup)}"#)
            #expect(r.errorCode == "invalid_customer_id", "\(bad): \(r.text)")
        }
        let numeric = try F.request(engine, "POST", "/v1/orders", #"{"customer_id":12,\#(pickup)}"#)
        #expect(numeric.status == 201, "\(numeric.text)")
        #expect(try F.object(numeric)["customer_id"] as? String == "12")
        #expect(try F.request(engine, "GET", "/v1/orders?customer_id=a%20b").errorCode == "invalid_customer_id")
        #expect(try F.request(engine, "GET", "/v1/customers/a;b/rating").errorCode == "invalid_customer_id")
        #expect(try F.request(engine, "POST", "/v1/quotes", F.orderBody(customer: "x y")).errorCode == "invalid_customer_id")
        let token = try engine.post("/v1/auth/token", #"{"role":"customer","subject":"no spaces allowed"}"#)
        #expect(token.status == 400)
    }
}

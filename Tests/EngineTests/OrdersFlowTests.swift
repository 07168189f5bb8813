import Foundation
import Testing
import Storage
import Synchronization
import TestSupport
import Vocabulary

/// Orders end to end: dispatch offers over HTTP, accept, pick-up, delivery and ratings; restart durability;
/// surge zones from waiting orders.
@Suite(.serialized) struct OrdersFlowTests {
    typealias F = OrdersFixture

    func offers(_ engine: TestEngine, _ driver: Int, _ token: String) throws -> [UInt64] {
        let r = try engine.get("/v1/drivers/\(driver)/offers", token: token)
        return ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.compactMap { ($0["order"] as? NSNumber)?.uint64Value } ?? []
    }

    @Test("an order flows to dispatch: offer, accept, pick-up, delivery, then one rating each way")
    func dispatchFlow() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let now = engine.nowMs
        // Two drivers pinged in near the pick-up; 61 is nearer.
        for (id, dLat, dLng) in [(61, 0.0005, 0.0005), (62, 0.004, 0.004)] {
            let ping = #"{"lat":\#(F.pickup.lat + dLat),"lng":\#(F.pickup.lng + dLng),"ts":\#(now),"status":"available"}"#
            #expect(try engine.post("/v1/drivers/\(id)/location", ping).status == 202)
        }
        let alice = try F.token(engine, "customer", "71")
        let d61 = try F.token(engine, "driver", "61"), d62 = try F.token(engine, "driver", "62")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))

        #expect(try eventually { try offers(engine, 61, d61) == [id] })
        #expect(try eventually { try F.status(engine, id) == "dispatched" })
        let dispatched = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)"))
        #expect((dispatched["courier_id"] as? NSNumber)?.intValue == 61)
        // The assigned driver sees the order; the other does not.
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: d61).status == 200)
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)", token: d62).errorCode == "order_not_found")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61).errorCode == "invalid_transition", "not accepted yet")

        #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)
        #expect(try eventually { try F.status(engine, id) == "accepted" })
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d62).errorCode == "forbidden", "only the assigned courier")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d61).errorCode == "invalid_transition")
        let picked = try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61)
        #expect(picked.status == 200, "\(picked.text)")
        #expect(try F.object(picked)["status"] as? String == "picked_up")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/cancel", token: alice).errorCode == "invalid_transition",
                "a customer cannot cancel after pick-up")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":5}"#, token: alice).errorCode == "rating_not_allowed")
        let delivered = try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d61)
        #expect(try F.object(delivered)["status"] as? String == "delivered")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61).errorCode == "invalid_transition")

        // Ratings: once per order per direction.
        let rated = try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":1,"comment":"late"}"#, token: alice)
        #expect(rated.status == 201, "\(rated.text)")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":5}"#, token: alice).errorCode == "already_rated")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":4}"#, token: d61).status == 201)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/rating", #"{"stars":4}"#, token: d62).errorCode == "forbidden")
        let courier = try F.object(try F.request(engine, "GET", "/v1/couriers/61/rating", token: alice))
        #expect((courier["count"] as? NSNumber)?.intValue == 1)
        // Bayesian average with 5 prior ratings of 4.5: (22.5 + 1) / 6.
        #expect(abs(((courier["score"] as? NSNumber)?.doubleValue ?? 0) - 23.5 / 6) < 1e-9)
        let customer = try F.object(try F.request(engine, "GET", "/v1/customers/71/rating"))
        #expect((customer["mean"] as? NSNumber)?.doubleValue == 4)

        // The courier is free again: a second order is offered to it.
        let second = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        #expect(try eventually { try offers(engine, 61, d61) == [second] })
        #expect(try engine.post("/v1/orders/\(second)/decline", "{}", token: d61).status == 200)
        #expect(try eventually { try offers(engine, 62, d62) == [second] }, "declined: offered to the next courier")
        #expect(try eventually { try F.object(try F.request(engine, "GET", "/v1/orders/\(second)"))["courier_id"] as? NSNumber == 62 })
        // Cancelling a dispatched order withdraws the offer.
        #expect(try F.request(engine, "POST", "/v1/orders/\(second)/cancel", token: alice).status == 200)
        #expect(try eventually { try offers(engine, 62, d62).isEmpty })
    }

    @Test("an accept is answered once the store has it: refused there (the order went back to quoted behind the loop), the courier is not told accepted")
    func acceptAnsweredAfterItsWrite() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let ping = #"{"lat":\#(F.pickup.lat + 0.0005),"lng":\#(F.pickup.lng + 0.0005),"ts":\#(engine.nowMs),"status":"available"}"#
        #expect(try engine.post("/v1/drivers/64/location", ping).status == 202)
        let d64 = try F.token(engine, "driver", "64")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "83")))
        #expect(try eventually { try offers(engine, 64, d64) == [id] })
        #expect(try eventually { try F.status(engine, id) == "dispatched" })
        // Another writer (as a shard whose refusal of the dispatch has not reached this loop) puts the order back.
        let other = try SQLiteStore(path: dir + "/hexfleet.sqlite")
        let back = Mutex<Result<TransitionOutcome, StorageError>?>(nil)
        other.transitionOrder(OrderTransitionRequest(orderID: OrderID(id), from: [.dispatched], to: .quoted, actor: .system,
                                                     reason: "offer_withdrawn")) { result in back.withLock { $0 = result } }
        other.flush()
        other.close()
        #expect(eventually { back.withLock { if case .success = $0 { true } else { false } } })
        let answer = try engine.post("/v1/orders/\(id)/accept", "{}", token: d64)
        #expect(answer.status != 200, "the store refused the accept: \(answer.text)")
        #expect(try F.status(engine, id) == "quoted")
    }

    @Test("acknowledged orders survive a restart on the same data directory: waiting ones are dispatched again, an accepted one keeps its courier")
    func restart() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        var ids: [UInt64] = []
        var accepted: UInt64 = 0
        do {
            let engine = try F.engine(dir: dir)
            defer { engine.close() }
            // One order is accepted by driver 63 before the restart.
            let ping = #"{"lat":\#(F.pickup.lat),"lng":\#(F.pickup.lng),"ts":\#(engine.nowMs),"status":"available"}"#
            #expect(try engine.post("/v1/drivers/63/location", ping).status == 202)
            let d63 = try F.token(engine, "driver", "63")
            accepted = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "82")))
            #expect(try eventually { try offers(engine, 63, d63) == [accepted] })
            #expect(try engine.post("/v1/orders/\(accepted)/accept", "{}", token: d63).status == 200)
            #expect(try eventually { try F.status(engine, accepted) == "accepted" })
            for n in 0..<3 {
                let r = try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "81"), headers: [("Idempotency-Key", "r-\(n)")])
                #expect(r.status == 201)
                ids.append(try F.id(r))
            }
            #expect(try F.request(engine, "POST", "/v1/orders/\(ids[2])/cancel").status == 200)
        }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        #expect(try F.status(engine, ids[0]) == "quoted")
        #expect(try F.status(engine, ids[1]) == "quoted")
        #expect(try F.status(engine, ids[2]) == "cancelled")
        let stats = try F.object(try engine.get("/v1/dispatch/stats"))
        #expect((stats["waiting"] as? NSNumber)?.intValue == 2, "live orders are queued for dispatch again")
        #expect((stats["assigned"] as? NSNumber)?.intValue == 1, "the accepted order's courier stays assigned")
        let replay = try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "81"), headers: [("Idempotency-Key", "r-0")])
        #expect(replay.status == 200)
        #expect(try F.id(replay) == ids[0])
        // The courier finishes the accepted order after the restart.
        let d63 = try F.token(engine, "driver", "63")
        let order = try F.object(try F.request(engine, "GET", "/v1/orders/\(accepted)", token: d63))
        #expect((order["courier_id"] as? NSNumber)?.intValue == 63)
        #expect(try F.request(engine, "POST", "/v1/orders/\(accepted)/pickup", token: d63).status == 200)
        #expect(try F.request(engine, "POST", "/v1/orders/\(accepted)/deliver", token: d63).status == 200)
        #expect(try eventually { (try F.object(try engine.get("/v1/dispatch/stats"))["assigned"] as? NSNumber)?.intValue == 0 },
                "delivery releases the courier")
    }

    @Test("waiting orders without couriers raise surge in their zone; /v1/surge draws the cell")
    func surge() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        for _ in 0..<5 { #expect(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "91")).status == 201) }
        var zone: [String: Any]?
        #expect(try eventually(within: 15) {
            zone = (try F.object(try engine.get("/v1/surge"))["zones"] as? [[String: Any]])?.first
            return zone != nil
        })
        let z = try #require(zone)
        #expect(((z["multiplier"] as? NSNumber)?.doubleValue ?? 0) > 1)
        #expect((z["demand"] as? NSNumber)?.intValue == 5)
        #expect((z["boundary"] as? [[Double]])?.count == 6, "a resolution-8 hexagon")
        let quote = try F.object(try F.request(engine, "POST", "/v1/quotes", F.orderBody(customer: "91")))
        #expect(((quote["surge"] as? NSNumber)?.doubleValue ?? 0) > 1, "quotes in the zone carry the surge")
    }
}

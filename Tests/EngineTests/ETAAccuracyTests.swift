import Foundation
import Testing
import TestSupport
import Vocabulary
@testable import Engine

@Suite(.serialized) struct ETAAccuracyTests {
    typealias F = OrdersFixture

    @Test("errors are actual minus predicted per leg; the last offer's prediction counts; cancelled orders are not judged")
    func legs() {
        let metrics = EngineMetrics()
        let accuracy = ETAAccuracy(registry: metrics.registry)
        let a = OrderID(1), b = OrderID(2), c = OrderID(3)
        accuracy.offered(a, atMs: 0, pickupETASeconds: 999)           // declined, then offered again:
        accuracy.offered(a, atMs: 10_000, pickupETASeconds: 60)       // pickup predicted at 70 s
        accuracy.pickedUp(a, atMs: 100_000)                           // 30 s late
        let errors = accuracy.delivered(a, atMs: 300_000, tripSeconds: 240)   // drop-off predicted at 310 s: 10 s early
        #expect(errors?.pickup == 30 && errors?.dropoff == -10)
        accuracy.offered(b, atMs: 0, pickupETASeconds: 30)
        accuracy.forget(b)
        #expect(accuracy.delivered(b, atMs: 50_000, tripSeconds: 10) == nil)
        #expect(accuracy.delivered(c, atMs: 50_000, tripSeconds: 10) == nil, "never offered: nothing to judge")
        accuracy.offered(c, atMs: 0, pickupETASeconds: .infinity)
        #expect(accuracy.openCount == 0, "an unusable ETA is no prediction")
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"hexfleet_eta_error_seconds_count{leg="pickup"} 1"#), "\(text)")
        #expect(text.contains(#"hexfleet_eta_error_seconds_sum{leg="pickup"} 30.0"#), "\(text)")
        #expect(text.contains(#"hexfleet_eta_error_seconds_sum{leg="dropoff"} -10.0"#), "\(text)")
        #expect(text.contains(#"hexfleet_eta_error_seconds_bucket{leg="dropoff",le="-10.0"} 1"#), "\(text)")
    }

    @Test("a delivered order through the engine lands in hexfleet_eta_error_seconds, both legs")
    func engineFlow() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        let ping = #"{"lat":\#(F.pickup.lat + 0.0005),"lng":\#(F.pickup.lng + 0.0005),"ts":\#(engine.nowMs),"status":"available"}"#
        #expect(try engine.post("/v1/drivers/61/location", ping).status == 202)
        let d61 = try F.token(engine, "driver", "61")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: try F.token(engine, "customer", "71")))
        #expect(try eventually { try F.status(engine, id) == "dispatched" })
        #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)
        #expect(try eventually { try F.status(engine, id) == "accepted" })
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61).status == 200)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d61).status == 200)
        #expect(try eventually {
            let text = try engine.get("/metrics", token: nil).text
            return text.contains(#"hexfleet_eta_error_seconds_count{leg="pickup"} 1"#)
                && text.contains(#"hexfleet_eta_error_seconds_count{leg="dropoff"} 1"#)
        })
    }
}

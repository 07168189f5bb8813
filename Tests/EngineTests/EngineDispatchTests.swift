import Dispatcher
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Engine
import Vocabulary

@Suite(.serialized) struct EngineDispatchTests {
    static func order(_ id: UInt64, _ lat: Double, _ lng: Double) -> WaitingOrder {
        WaitingOrder(id: OrderID(id), pickup: LatLng(degrees: lat, lng),
                     createdAtMs: Int64(Date().timeIntervalSince1970 * 1000))
    }

    func driverToken(_ engine: TestEngine, _ id: Int) throws -> String {
        let r = try engine.post("/v1/auth/token", #"{"role":"driver","subject":"\#(id)"}"#)
        return try #require((r.json as? [String: Any])?["token"] as? String)
    }

    func offers(_ engine: TestEngine, _ driver: Int, _ token: String) throws -> [UInt64] {
        let r = try engine.get("/v1/drivers/\(driver)/offers", token: token)
        return ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.compactMap { ($0["order"] as? NSNumber)?.uint64Value } ?? []
    }

    @Test("an order is offered to the nearest courier; decline re-dispatches to another, never back; accept assigns")
    func offerDeclineAccept() throws {
        let engine = try TestEngine(configure: {
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
        }, setup: { engine in engine.dispatch.enqueue(Self.order(501, 43.7300, 7.4200)) })
        defer { engine.close() }
        let now = engine.nowMs
        // Driver 1 is nearest, driver 2 next, driver 3 far away.
        for (id, lat, lng) in [(1, 43.7301, 7.4201), (2, 43.7320, 7.4220), (3, 43.7600, 7.4600)] {
            #expect(try engine.post("/v1/drivers/\(id)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now),"status":"available"}"#).status == 202)
        }
        let t1 = try driverToken(engine, 1), t2 = try driverToken(engine, 2)
        #expect(try eventually { try offers(engine, 1, t1) == [501] })
        #expect(try offers(engine, 2, t2).isEmpty, "one open offer per order")
        // Another driver cannot answer driver 1's offer.
        #expect(try engine.post("/v1/orders/501/accept", "{}", token: t2).errorCode == "offer_not_found")
        #expect(try engine.post("/v1/orders/501/decline", "{}", token: t1).status == 200)
        #expect(try eventually { try offers(engine, 2, t2) == [501] })
        #expect(try offers(engine, 1, t1).isEmpty, "a courier is never offered the same order again")
        #expect(try engine.post("/v1/orders/501/accept", "{}", token: t2).status == 200)
        #expect(try engine.post("/v1/orders/501/accept", "{}", token: t2).errorCode == "offer_not_found", "no double accept")
        let stats = try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
        #expect((stats["assigned"] as? NSNumber)?.intValue == 1)
        #expect((stats["waiting"] as? NSNumber)?.intValue == 0)
    }

    @Test("an unanswered offer expires and goes to the next courier")
    func timeout() throws {
        let engine = try TestEngine(configure: {
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 50
            $0.offerTimeoutMs = 300
            $0.trackTickMs = 20
        }, setup: { engine in engine.dispatch.enqueue(Self.order(777, 43.7300, 7.4200)) })
        defer { engine.close() }
        let now = engine.nowMs
        for (id, lat, lng) in [(11, 43.7301, 7.4201), (12, 43.7320, 7.4220)] {
            #expect(try engine.post("/v1/drivers/\(id)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now)}"#).status == 202)
        }
        let t11 = try driverToken(engine, 11), t12 = try driverToken(engine, 12)
        #expect(try eventually { try offers(engine, 11, t11) == [777] })
        #expect(try eventually { try offers(engine, 12, t12) == [777] })
        #expect(try offers(engine, 11, t11).isEmpty)
        #expect(try engine.post("/v1/orders/777/accept", "{}", token: t11).errorCode == "offer_not_found")
    }

    @Test("many orders and couriers under concurrent accept/decline: no courier or order assigned twice")
    func concurrentAnswers() throws {
        var orders: [WaitingOrder] = []
        for i in 0..<30 {
            let lat = 43.70 + Double(i) * 0.002
            let lng = 7.40 + Double(i % 5) * 0.004
            orders.append(Self.order(UInt64(1_000 + i), lat, lng))
        }
        let queued = orders
        let engine = try TestEngine(configure: {
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 50
            $0.trackTickMs = 20
        }, setup: { engine in for o in queued { engine.dispatch.enqueue(o) } })
        defer { engine.close() }
        let now = engine.nowMs
        var tokens: [Int: String] = [:]
        for d in 1...20 {
            #expect(try engine.post("/v1/drivers/\(d)/location", #"{"lat":\#(43.70 + Double(d) * 0.003),"lng":7.41,"ts":\#(now)}"#).status == 202)
            tokens[d] = try driverToken(engine, d)
        }
        let tokenOf = tokens
        let accepted = Mutex<[UInt64: Int]>([:])
        let deadline = Date().addingTimeInterval(15)
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            let d = i + 1
            var mine = 0
            while Date() < deadline && mine == 0 {
                guard let offered = try? offers(engine, d, tokenOf[d]!).first else { usleep(10_000); continue }
                // Odd couriers decline their first offer, then accept the next.
                if d % 2 == 1 && accepted.withLock({ $0.values.filter { $0 == -d }.isEmpty }) {
                    _ = try? engine.post("/v1/orders/\(offered)/decline", "{}", token: tokenOf[d]!)
                    accepted.withLock { $0[UInt64.max - UInt64(d)] = -d }
                    continue
                }
                if (try? engine.post("/v1/orders/\(offered)/accept", "{}", token: tokenOf[d]!))?.status == 200 {
                    accepted.withLock { $0[offered] = d }
                    mine = 1
                }
            }
        }
        let result = accepted.withLock { $0.filter { $0.value > 0 } }
        #expect(result.count == 20, "every courier ends with exactly one order")
        #expect(Set(result.values).count == result.count, "no courier twice")
        #expect(Set(result.keys).count == result.count, "no order twice")
    }
}

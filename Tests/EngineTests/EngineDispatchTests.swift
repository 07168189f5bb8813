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

    @Test("on the default road ETAs (Monaco graph), each offer's pickup ETA is the engine's own road ETA for that courier and pickup")
    func roadETAs() throws {
        let dir = try OrdersFixture.dataDirectory()   // reuses the contracted graph an earlier test built, if any
        defer { OrdersFixture.remove(dir) }
        // Monaco points on roads: pick-ups near the port and up the hill east of the casino; couriers at the
        // casino and by the palace.
        let pickups: [UInt64: (lat: Double, lng: Double)] = [601: (43.7347, 7.4206), 602: (43.7502, 7.4363)]
        let drivers: [Int: (lat: Double, lng: Double)] = [31: (43.7396, 7.4270), 32: (43.7311, 7.4197)]
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.graphPath = SharedData.repoRoot.appendingPathComponent("fixtures/monaco.osm.pbf").path
            $0.dispatchIntervalMs = 100
            $0.offerTimeoutMs = 600_000   // offers wait for the poll however slow the machine
            $0.trackTickMs = 20
            // The one-order round's offer ETA is the snapped road ETA; a stacking round's is its planned schedule
            // between road nodes (within an edge's length of it), checked in StackedDispatchTests.
            $0.dispatchStacking = false
            #expect($0.straightLineETA == false, "road ETAs are the default")
        }, setup: { engine in
            for (id, p) in pickups { engine.dispatch.enqueue(Self.order(id, p.lat, p.lng)) }
        })
        defer { engine.close() }
        OrdersFixture.noteGraphCache(in: dir)
        let now = engine.nowMs
        for (id, p) in drivers {
            #expect(try engine.post("/v1/drivers/\(id)/location", #"{"lat":\#(p.lat),"lng":\#(p.lng),"ts":\#(now)}"#).status == 202)
        }
        var offered: Set<UInt64> = []
        for (id, p) in drivers.sorted(by: { $0.key < $1.key }) {
            let token = try driverToken(engine, id)
            var offer: [String: Any] = [:]
            #expect(try eventually(within: 60) {
                let r = try engine.get("/v1/drivers/\(id)/offers", token: token)
                offer = ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.first ?? [:]
                return !offer.isEmpty
            }, "courier \(id) got no offer")
            let order = try #require((offer["order"] as? NSNumber)?.uint64Value)
            let pickup = try #require(pickups[order])
            offered.insert(order)
            let pickupETA = try #require((offer["pickup_eta_s"] as? NSNumber)?.doubleValue, "\(offer)")
            let eta = try engine.get("/v1/eta?from=\(p.lat),\(p.lng)&to=\(pickup.lat),\(pickup.lng)")
            let road = try #require((eta.json as? [String: Any])?["duration_s"] as? Double, "\(eta.text)")
            #expect(abs(pickupETA - road) < 0.01, "courier \(id) → order \(order): offer says \(pickupETA) s, road ETA \(road) s")
            let straight = try StraightLineETAProvider().etaSeconds(from: [LatLng(degrees: p.lat, p.lng)],
                                                                    to: [LatLng(degrees: pickup.lat, pickup.lng)])[0]
            #expect(abs(pickupETA - straight) > 5, "courier \(id) → order \(order): \(pickupETA) s is the straight-line \(straight) s")
        }
        #expect(offered == Set(pickups.keys), "each order offered to one courier")
        let stats = try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
        #expect(stats["eta"] as? String == "routing")
        #expect((stats["round_errors"] as? NSNumber)?.intValue == 0)
    }

    @Test("an unanswered offer expires and goes to the next courier; the first can no longer accept it")
    func timeout() throws {
        // Offers live 300 ms, so the couriers watch their driver channels: every offer and expiry is pushed there,
        // and nothing has to be caught by polling within an offer's life.
        let engine = try TestEngine(configure: {
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 50
            $0.offerTimeoutMs = 300
            $0.trackTickMs = 20
        }, setup: { engine in engine.dispatch.enqueue(Self.order(777, 43.7300, 7.4200)) })
        defer { engine.close() }
        let t11 = try driverToken(engine, 11), t12 = try driverToken(engine, 12)
        // The channels open before the couriers appear, so no offer is pushed before anyone listens.
        let ws11 = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(t11)", timeoutSeconds: 30)
        let ws12 = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(t12)", timeoutSeconds: 30)
        #expect(ws11.status == 101 && ws12.status == 101)
        let now = engine.nowMs
        for (id, lat, lng) in [(11, 43.7301, 7.4201), (12, 43.7320, 7.4220)] {
            #expect(try engine.post("/v1/drivers/\(id)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now)}"#).status == 202)
        }
        // Courier 11 (nearest) is offered the order, which expires unanswered; then courier 12 is offered it.
        let first = try ws11.readJSON(type: "offer")
        #expect((first["order"] as? NSNumber)?.uint64Value == 777)
        let expired = try ws11.readJSON(type: "offer_expired")
        #expect((expired["order"] as? NSNumber)?.uint64Value == 777)
        let second = try ws12.readJSON(type: "offer")
        #expect((second["order"] as? NSNumber)?.uint64Value == 777)
        let offeredAt = try #require((second["expires_at_ms"] as? NSNumber)?.int64Value)
        let firstExpiry = try #require((first["expires_at_ms"] as? NSNumber)?.int64Value)
        #expect(offeredAt > firstExpiry, "the second offer follows the first one's expiry")
        #expect(try offers(engine, 11, t11).isEmpty, "an expired pair is never offered again")
        #expect(try engine.post("/v1/orders/777/accept", "{}", token: t11).errorCode == "offer_not_found")
    }

    @Test("many orders and couriers under concurrent accepts, declines and stray accepts: no order accepted twice, no courier holding two")
    func concurrentAnswers() throws {
        typealias F = OrdersFixture
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        // One order per courier is what this checks: stacking off (StackedDispatchTests covers stacking).
        let engine = try F.engine(dir: dir, stacking: false)
        defer { engine.close() }
        let couriers = Array(1...20), orderCount = 30
        let now = engine.nowMs
        var tokens: [Int: String] = [:]
        for d in couriers {
            let lat = 43.725 + Double(d) * 0.001, lng = 7.41 + Double(d % 4) * 0.003
            #expect(try engine.post("/v1/drivers/\(d)/location", #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(now)}"#).status == 202)
            tokens[d] = try driverToken(engine, d)
        }
        var placed: [UInt64] = []
        for i in 0..<orderCount { placed.append(try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(customer: "\(900 + i)")))) }
        let orderIDs = placed, tokenOf = tokens

        let shared = ConcurrentAnswers()
        let accept: @Sendable (UInt64, Int) -> Bool = { order, d in
            guard (try? engine.post("/v1/orders/\(order)/accept", "{}", token: tokenOf[d]!))?.status == 200 else { return false }
            shared.confirmed.withLock { $0.append((order, d)) }
            return true
        }
        let done = DispatchGroup()
        for d in couriers {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                var declinedOne = d % 2 == 0   // odd couriers decline their first offer
                var next = d * 7
                while shared.phase.load(ordering: .acquiring) < 2 {
                    if let offered = try? offers(engine, d, tokenOf[d]!).first {
                        if !declinedOne {
                            declinedOne = (try? engine.post("/v1/orders/\(offered)/decline", "{}", token: tokenOf[d]!))?.status == 200
                        } else {
                            _ = accept(offered, d)
                        }
                    }
                    // Also try an order this courier was not offered (or was, and already took): the engine must refuse.
                    _ = accept(orderIDs[next % orderIDs.count], d)
                    next += 1
                    if shared.phase.load(ordering: .acquiring) == 1 { shared.roundsAfter.withLock { $0[d, default: 0] += 1 } }
                    usleep(20_000)
                }
            }
            thread.start()
        }
        // Every courier ends with an order (30 orders for 20 couriers, ten declines)…
        let everyone = eventually(within: 90) { Set(shared.confirmed.withLock { $0.map(\.courier) }) == Set(couriers) }
        #expect(everyone, "couriers with an order: \(Set(shared.confirmed.withLock { $0.map(\.courier) }).sorted())")
        // …then the threads keep answering and trying stray accepts while dispatch runs more rounds over the ten
        // orders still waiting: a busy courier offered (or handed) a second order would show here.
        shared.phase.store(1, ordering: .releasing)
        func stats() throws -> [String: Any] { (try engine.get("/v1/dispatch/stats").json as? [String: Any]) ?? [:] }
        let roundsBefore = try #require((try stats()["rounds"] as? NSNumber)?.intValue)
        #expect(try eventually(within: 60) { (try stats()["rounds"] as? NSNumber)?.intValue ?? 0 >= roundsBefore + 10 })
        #expect(eventually(within: 60) { shared.roundsAfter.withLock { d in couriers.allSatisfy { d[$0, default: 0] >= 20 } } })
        shared.phase.store(2, ordering: .releasing)
        #expect(done.wait(timeout: .now() + 60) == .success)

        let log = shared.confirmed.withLock { $0 }
        let ordersAccepted = log.map(\.order), couriersAccepted = log.map(\.courier)
        #expect(Set(ordersAccepted).count == log.count, "no order accepted twice: \(log)")
        // No courier is released here (nothing is delivered or cancelled), so two acceptances by one courier would
        // mean it held two orders at once.
        #expect(Set(couriersAccepted).count == log.count, "no courier holds two orders: \(log)")
        #expect(Set(couriersAccepted) == Set(couriers), "every courier ends with exactly one order")

        // The server agrees: dispatch's book and every order's own record.
        let final = try stats()
        #expect((final["assigned"] as? NSNumber)?.intValue == log.count)
        #expect((final["open_offers"] as? NSNumber)?.intValue == 0, "no free courier is left to offer to")
        #expect((final["waiting"] as? NSNumber)?.intValue == orderCount - log.count)
        let courierOf = Dictionary(log.map { ($0.order, $0.courier) }, uniquingKeysWith: { a, _ in a })
        for id in orderIDs {
            let want = courierOf[id]
            var seen = ""
            #expect(try eventually(within: 30) {
                let r = try F.request(engine, "GET", "/v1/orders/\(id)")
                seen = r.text
                let order = try F.object(r)
                return order["status"] as? String == (want == nil ? "quoted" : "accepted")
                    && (order["courier_id"] as? NSNumber)?.intValue == want
            }, "order \(id): \(want.map { "accepted by \($0)" } ?? "never accepted"); the server says \(seen)")
        }
    }
}

/// What the courier threads of `concurrentAnswers` share.
private final class ConcurrentAnswers: Sendable {
    /// Every acceptance the server confirmed (200), in the order the answers came back.
    let confirmed = NSLocked<[(order: UInt64, courier: Int)]>([])
    /// Per courier: passes of its loop since `phase` turned 1.
    let roundsAfter = NSLocked<[Int: Int]>([:])
    /// 0: answering; 1: every courier holds an order, keep trying; 2: stop.
    let phase = Atomic<Int>(0)
}

/// A value behind an `NSLock` (a pthread mutex, whose hand-over ThreadSanitizer sees): twenty courier threads contend
/// for these, and a contended `Synchronization.Mutex` is reported as a race under TSan (docs/fuzzing.md).
private final class NSLocked<Value>: @unchecked Sendable {   // `value` only under `lock`
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

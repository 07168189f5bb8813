@testable import Engine
import EventLoop
import FleetIndex
import Foundation
import Synchronization
import Testing
import TestSupport
import Vocabulary

/// State the test thread shares with the engine's loop thread.
private final class OrderFixture: Sendable {
    let courier = Mutex<UInt64>(5)
    let pendingEvent = Mutex<[UInt8]?>(nil)
    let installed = Mutex(false)
    /// The loop timer that delivers `pendingEvent`, kept alive here; set and read on the loop thread only.
    nonisolated(unsafe) var timer: EventLoop.Timer?
}

/// Stands in for the orders service: order 77 belongs to customer 41 and is held by `fixture.courier`.
private final class FixtureOrders: OrderDirectory {
    let fixture: OrderFixture
    init(_ fixture: OrderFixture) { self.fixture = fixture }
    func courier(of order: OrderID) -> CourierID? { order.rawValue == 77 ? CourierID(fixture.courier.withLock { $0 }) : nil }
    func customer(of order: OrderID, _ answer: @escaping (CustomerID?) -> Void) { answer(order.rawValue == 77 ? CustomerID(41) : nil) }
}

@Suite(.serialized) struct TrackingOrderTests {
    /// An engine whose tracking hub asks `FixtureOrders` about orders; a loop timer pushes the fixture's pending
    /// order event to the order's watchers, as the orders service does on a change.
    private func engine(_ fixture: OrderFixture) throws -> TestEngine {
        try TestEngine(setup: { engine in
            let hub = engine.tracking
            hub.orders = FixtureOrders(fixture)
            let timer = try EventLoop.Timer(loop: engine.loop)
            timer.keepsLoopAlive = false
            try timer.start(afterMs: 10, repeatMs: 10) {
                if let event = fixture.pendingEvent.withLock({ e in defer { e = nil }; return e }) {
                    hub.push(order: 77, event)
                }
            }
            fixture.timer = timer
            fixture.installed.withLock { $0 = true }
        })
    }

    @Test("a customer follows its order's courier, and the next courier when the order changes hands; events arrive")
    func followsCourier() throws {
        let fixture = OrderFixture()
        let engine = try engine(fixture)
        defer { engine.close() }
        let ping = { (driver: UInt64, ts: Int64) throws in
            try sendUDP(port: engine.udp, [PingWire.encode([PingRecord(driverID: driver, timestampMs: ts, latE7: 437_300_000,
                                                                        lngE7: 74_200_000, status: 2)],
                                                           signerID: driver, gateway: false, key: engine.keys.driverKey(driver))])
        }
        #expect(eventually { fixture.installed.withLock { $0 } })
        let now = engine.nowMs
        try ping(5, now)
        #expect(try eventually { try engine.get("/v1/drivers/5").status == 200 })

        let other = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.customer, "42"))")
        try other.send(text: #"{"op":"subscribe","order":77}"#)
        #expect((try other.readJSON(type: "error"))["code"] as? String == "forbidden")

        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.customer, "41"))")
        try ws.send(text: #"{"op":"subscribe","order":77}"#)
        #expect((try ws.readJSON(type: "subscribed"))["order"] as? Int == 77)
        let snapshot = try ws.readJSON(type: "positions")
        #expect((snapshot["drivers"] as? [[String: Any]])?.first?["id"] as? Int == 5)

        try ping(6, now)   // not the courier yet: nothing for the customer
        fixture.courier.withLock { $0 = 6 }
        try ping(6, now + 1)
        var m = try ws.readJSON(type: "positions")
        let ids = (m["drivers"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        #expect(ids == [6])
        #expect(((m["drivers"] as? [[String: Any]])?.first?["ts"] as? NSNumber)?.int64Value == now + 1)

        fixture.pendingEvent.withLock { $0 = Array(#"{"type":"order","id":77,"status":"picked_up"}"#.utf8) }
        m = try ws.readJSON(type: "order")
        #expect(m["status"] as? String == "picked_up")
    }
}

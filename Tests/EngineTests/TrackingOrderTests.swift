@testable import Engine
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
}

@Suite(.serialized) struct TrackingOrderTests {
    /// An engine whose order hooks say: order 77 belongs to customer `c1` and is held by `fixture.courier`.
    /// The hooks are set from a tick handler, after the modules installed their own.
    private func engine(_ fixture: OrderFixture) throws -> TestEngine {
        try TestEngine(setup: { engine in
            engine.tickHandlers.append { [unowned engine] _ in
                engine.hooks.courierOfOrder = { id in id == 77 ? DriverID(fixture.courier.withLock { $0 }) : nil }
                engine.hooks.customerOfOrder = { id in id == 77 ? "c1" : nil }
                fixture.installed.withLock { $0 = true }
                if let event = fixture.pendingEvent.withLock({ e in defer { e = nil }; return e }) {
                    engine.hooks.pushToOrderWatchers(77, event)
                }
            }
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

        let other = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.customer, "c2"))")
        try other.send(text: #"{"op":"subscribe","order":77}"#)
        #expect((try other.readJSON(type: "error"))["code"] as? String == "forbidden")

        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.customer, "c1"))")
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

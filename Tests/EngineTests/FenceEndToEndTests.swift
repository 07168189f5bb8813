import Crypto
import Engine
import Foundation
import Routing
import Testing
import TestSupport
import Vocabulary

/// Fences and order watching through a running engine on real sockets: pings in over UDP or HTTP, events out over
/// WebSockets, webhooks and the order's event log, with the settings changed from their defaults only where the
/// test needs it (a short off-route grace, a drive-time arrival area, a dwell).
@Suite(.serialized) struct FenceEndToEndTests {
    typealias F = OrdersFixture

    /// An engine on Monaco like `OrdersFixture.engine`, with `extra` applied on top.
    private static func engine(dir: String, _ extra: @escaping (inout EngineConfiguration) -> Void) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
            extra(&$0)
        })
        F.noteGraphCache(in: dir)
        return engine
    }

    /// Courier 67 posts a fix (HTTP, status available) with a timestamp that keeps rising.
    private final class Courier {
        let engine: TestEngine
        var ts: Int64
        init(_ engine: TestEngine) {
            self.engine = engine
            ts = engine.nowMs - 20_000
        }

        func ping(_ lat: Double, _ lng: Double) throws {
            ts = max(ts + 200, engine.nowMs)
            let body = #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(ts),"status":"available"}"#
            let r = try engine.post("/v1/drivers/67/location", body, token: TestEngine.admin)
            #expect(r.status == 202, "\(r.text)")
        }
    }

    /// Creates an order from pick-up to drop-off, offers it to courier 67 (who must have pinged), accepts it, and
    /// follows it as its customer; answers the order id and the customer's socket.
    private static func acceptedOrder(_ engine: TestEngine) throws -> (UInt64, TrackingTestClient) {
        let alice = try F.token(engine, "customer", "77")
        let d67 = try F.token(engine, "driver", "67")
        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(d67)")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        _ = try driver.readJSON(type: "offer")
        let customer = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(alice)", timeoutSeconds: 15)
        try customer.send(text: #"{"op":"subscribe","order":\#(id)}"#)
        _ = try customer.readJSON(type: "subscribed")
        try driver.send(text: #"{"op":"accept","order":\#(id)}"#)
        _ = try driver.readJSON(type: "offer_accepted")
        #expect(try eventually { try F.status(engine, id) == "accepted" })
        return (id, customer)
    }

    private static func reasons(_ engine: TestEngine, _ order: UInt64) throws -> [String] {
        let events = (try F.object(try F.request(engine, "GET", "/v1/orders/\(order)/events"))["events"] as? [[String: Any]]) ?? []
        return events.compactMap { $0["reason"] as? String }
    }

    @Test("a courier straying from its planned route for longer than off_route_s is an off_route event: the order's watchers and its event log")
    func offRoute() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try Self.engine(dir: dir) {
            $0.offRouteMeters = 100
            $0.offRouteSeconds = 2
        }
        defer { engine.close() }
        let courier = Courier(engine)
        try courier.ping(F.pickup.lat + 0.004, F.pickup.lng)           // ~450 m north of the pick-up, on the way
        let (id, customer) = try Self.acceptedOrder(engine)
        Thread.sleep(forTimeInterval: 1.3)                               // the once-a-second sweep plans the leg here
        // Back on the way for a while: nothing fires.
        for _ in 0..<3 {
            try courier.ping(F.pickup.lat + 0.004, F.pickup.lng)
            Thread.sleep(forTimeInterval: 0.4)
        }
        #expect(!(try Self.reasons(engine, id)).contains("off_route"))
        // ~650 m west of the leg, for more than the 2 s grace, on the fixes' own clocks.
        let stray = (lat: F.pickup.lat + 0.002, lng: F.pickup.lng - 0.008)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            try courier.ping(stray.lat, stray.lng)
            Thread.sleep(forTimeInterval: 0.4)
            if try Self.reasons(engine, id).contains("off_route") { break }
        }
        // Still away: the excursion has fired already, once.
        try courier.ping(stray.lat, stray.lng)
        Thread.sleep(forTimeInterval: 1.2)
        let event = try customer.readJSON(type: "order_event")
        #expect(event["event"] as? String == "off_route", "\(event)")
        #expect((event["order"] as? NSNumber)?.uint64Value == id && (event["courier"] as? NSNumber)?.uint64Value == 67)
        #expect(((event["distance_m"] as? NSNumber)?.doubleValue ?? 0) > 100, "\(event)")
        #expect(abs((event["lat"] as? Double ?? 0) - stray.lat) < 1e-6 && abs((event["lng"] as? Double ?? 0) - stray.lng) < 1e-6)
        #expect(try Self.reasons(engine, id).filter { $0 == "off_route" }.count == 1, "one excursion is one event")
        #expect(try F.status(engine, id) == "accepted", "straying changes no status")
    }

    @Test("with arrival_drive_time_s the courier is at the pick-up once it is that many seconds of driving from it, beyond the radius")
    func driveTimeArrival() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try Self.engine(dir: dir) { $0.arrivalDriveTimeSeconds = 60 }
        defer { engine.close() }
        let start = (lat: F.pickup.lat + 0.009, lng: F.pickup.lng)        // ~1 km north
        // A point on the road to the pick-up, 100–400 m from it (beyond the 60 m radius) and well within 60 s of it.
        let route = try F.object(try engine.get("/v1/route?from=\(start.lat),\(start.lng)&to=\(F.pickup.lat),\(F.pickup.lng)"))
        let polyline = try #require(route["polyline"] as? String)
        let points = try #require(Polyline.decode(polyline))
        let pickup = LatLng(degrees: F.pickup.lat, F.pickup.lng)
        var near: LatLng?
        var tried: [String] = []
        for p in points.reversed() where Geodesy.distanceMeters(p, pickup) > 100 && Geodesy.distanceMeters(p, pickup) < 400 {
            let eta = try engine.get("/v1/route?from=\(p.latDegrees),\(p.lngDegrees)&to=\(F.pickup.lat),\(F.pickup.lng)")
            let s = ((eta.json as? [String: Any])?["duration_s"] as? NSNumber)?.doubleValue
            tried.append("\(Int(Geodesy.distanceMeters(p, pickup))) m: \(s.map { "\($0) s" } ?? "\(eta.status)")")
            if let s, s < 45 { near = p; break }
        }
        let approach = try #require(near, "no road point 100–400 m and < 45 s from the pick-up on the way: \(points.count) points, \(tried)")

        let courier = Courier(engine)
        try courier.ping(start.lat, start.lng)
        let (id, customer) = try Self.acceptedOrder(engine)
        Thread.sleep(forTimeInterval: 1.3)                               // the sweep adds the arrival area
        try courier.ping(start.lat, start.lng)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!(try Self.reasons(engine, id)).contains("arrived_pickup"), "1 km away is not there")
        try courier.ping(approach.latDegrees, approach.lngDegrees)
        let event = try customer.readJSON(type: "order_event")
        #expect(event["event"] as? String == "arrived_pickup", "\(event)")
        #expect((event["courier"] as? NSNumber)?.uint64Value == 67 && (event["order"] as? NSNumber)?.uint64Value == id)
        #expect(try eventually { try Self.reasons(engine, id).contains("arrived_pickup") })
    }

    @Test("a dwell fence through the real ingest: jitter at the edge fires nothing; the WebSocket subscriber and the webhook get the settled enter and exit, once each")
    func dwellToSubscriberAndWebhook() throws {
        let receiver = try LocalHTTPReceiver { _ in 200 }
        defer { receiver.stop() }
        let secret = [UInt8](repeating: 0x24, count: 16)
        let engine = try TestEngine(configure: { $0.webhookSecret = secret })
        defer { engine.close() }
        // Helsinki: a 150 m circle with a 2 s dwell, and a plain marker circle 1 km east that closes the sequence.
        let dwell = #"{"id":"stand","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":150},"dwell_s":2,"webhook":"\#(receiver.url)"}"#
        let marker = #"{"id":"marker","shape":{"type":"circle","center":{"lat":60.17,"lng":24.96},"radius_m":150}}"#
        #expect(try engine.post("/v1/fences", dwell).status == 201)
        #expect(try engine.post("/v1/fences", marker).status == 201)
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/events?token=\(TestEngine.admin)")
        try ws.send(text: #"{"op":"subscribe","fences":"*"}"#)
        _ = try ws.readJSON(type: "subscribed")

        let outside = (latE7: Int32(601_700_000), lngE7: Int32(249_300_000))    // ~550 m west
        let inside = (latE7: Int32(601_700_000), lngE7: Int32(249_400_000))
        let edgeOut = (latE7: Int32(601_700_000), lngE7: Int32(249_428_000))    // ~155 m east of the centre
        let atMarker = (latE7: Int32(601_700_000), lngE7: Int32(249_600_000))
        let t0 = engine.nowMs - 30_000
        func ping(_ at: (latE7: Int32, lngE7: Int32), _ dt: Int64) throws {
            let r = PingRecord(driverID: 5, timestampMs: t0 + dt, latE7: at.latE7, lngE7: at.lngE7, status: 1)
            try sendUDP(port: engine.udp, [PingWire.encode([r], signerID: 5, gateway: false, key: engine.keys.driverKey(5))])
        }
        try ping(outside, 0)
        #expect(try eventually { try engine.get("/v1/drivers/5").status == 200 })
        // Jitter across the edge, never 2 s on the other side: nothing.
        for (k, at) in [inside, edgeOut, inside, edgeOut, inside, edgeOut].enumerated() { try ping(at, 1_000 + Int64(k) * 500) }
        // Settles inside at 5,000: enter at the first ping 2 s later (7,000), not before (6,500).
        for dt in stride(from: Int64(5_000), through: 7_000, by: 500) { try ping(inside, dt) }
        // Jitter out and back (1 s out): still inside. Then out for good at 9,500: exit at 11,500.
        try ping(edgeOut, 8_000)
        try ping(inside, 9_000)
        for dt in stride(from: Int64(9_500), through: 11_500, by: 500) { try ping(outside, dt) }
        try ping(atMarker, 12_000)

        var events: [[String: Any]] = []
        while events.last?["fence"] as? String != "marker" { events.append(try ws.readJSON(type: "fence")) }
        #expect(events.map { "\($0["fence"] as? String ?? ""):\($0["event"] as? String ?? "")" } == ["stand:enter", "stand:exit", "marker:enter"])
        #expect(events.map { ($0["ts"] as? NSNumber)?.int64Value ?? 0 } == [t0 + 7_000, t0 + 11_500, t0 + 12_000])

        #expect(receiver.waitForRequests(2))
        Thread.sleep(forTimeInterval: 0.5)
        let posts = receiver.requests
        #expect(posts.map { $0.headers["x-hexfleet-event"] ?? "" }.sorted() == ["fence.enter", "fence.exit"], "the marker has no webhook")
        for post in posts {
            let mac = HMAC<SHA256>.authenticationCode(for: post.body, using: SymmetricKey(data: secret))
            #expect(post.headers["x-hexfleet-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let body = (try JSONSerialization.jsonObject(with: Data(post.body)) as? [String: Any]) ?? [:]
            #expect(body["fence"] as? String == "stand" && (body["driver"] as? NSNumber)?.uint64Value == 5)
        }
        #expect(try eventually { try engine.metric(#"hexfleet_fence_events_total{event="enter"}"#) == 2 })
        #expect(try engine.metric(#"hexfleet_fence_events_total{event="exit"}"#) == 1)
    }
}

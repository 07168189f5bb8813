import Crypto
import Engine
import Foundation
import Testing
import TestSupport
import Vocabulary

/// Helsinki: a 150 m circle and points west of, inside and east of it.
private let circleBody = #"{"id":"kamppi","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":150},"detect":["enter","exit","cross"],"meta":{"name":"Kamppi"}}"#
private let west = (latE7: Int32(601_700_000), lngE7: Int32(249_300_000))
private let centre = (latE7: Int32(601_700_000), lngE7: Int32(249_400_000))
private let east = (latE7: Int32(601_700_000), lngE7: Int32(249_500_000))

private func ping(_ engine: TestEngine, _ driver: UInt64, _ at: (latE7: Int32, lngE7: Int32), ts: Int64) throws {
    let r = PingRecord(driverID: driver, timestampMs: ts, latE7: at.latE7, lngE7: at.lngE7, status: 1)
    try sendUDP(port: engine.udp, [PingWire.encode([r], signerID: driver, gateway: false, key: engine.keys.driverKey(driver))])
}

private func json(_ r: TestHTTPResponse) -> [String: Any] { (r.json as? [String: Any]) ?? [:] }

/// Reads fence events until `n` arrived (other messages skipped).
private func fenceEvents(_ ws: TrackingTestClient, _ n: Int) throws -> [[String: Any]] {
    var out: [[String: Any]] = []
    while out.count < n { out.append(try ws.readJSON(type: "fence")) }
    return out
}

@Suite(.serialized) struct FenceServiceTests {
    @Test("fences over HTTP: create, read, list, containing (nearest centre first), delete; bad input is a 400 with a code")
    func crud() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let created = try engine.post("/v1/fences", circleBody)
        #expect(created.status == 201)
        #expect(json(created)["id"] as? String == "kamppi")
        let big = #"{"id":"big","shape":{"type":"circle","center":{"lat":60.18,"lng":24.94},"radius_m":3000}}"#
        #expect(try engine.post("/v1/fences", big).status == 201)
        #expect(try engine.post("/v1/fences", big).status == 200, "a second POST of an id replaces it")
        let poly = #"{"shape":{"type":"polygon","rings":[[[60.1,24.8],[60.1,25.3],[60.35,25.3],[60.35,24.8]],[[60.16,24.93],[60.16,24.95],[60.18,24.95],[60.18,24.93]]]}}"#
        let generated = try engine.post("/v1/fences", poly)
        #expect(generated.status == 201)
        let genID = try #require(json(generated)["id"] as? String)

        let one = json(try engine.get("/v1/fences/kamppi"))
        #expect((one["meta"] as? [String: Any])?["name"] as? String == "Kamppi")
        #expect(one["detect"] as? [String] == ["enter", "exit", "cross"])
        #expect((json(try engine.get("/v1/fences"))["fences"] as? [[String: Any]])?.count == 3)

        // The point is in both circles; the polygon's hole leaves it out of the polygon.
        let found = (json(try engine.get("/v1/fences/containing?lat=60.17&lng=24.94"))["fences"] as? [[String: Any]]) ?? []
        #expect(found.map { $0["id"] as? String } == ["kamppi", "big"])
        let outOfHole = (json(try engine.get("/v1/fences/containing?lat=60.3&lng=25.2&limit=5"))["fences"] as? [[String: Any]]) ?? []
        #expect(outOfHole.map { $0["id"] as? String } == [genID])

        #expect(try engine.get("/v1/fences/containing?lat=91&lng=0").status == 422)
        #expect(json(try engine.post("/v1/fences", #"{"shape":{"type":"circle"}}"#)).description.contains("invalid_shape"))
        #expect(try engine.post("/v1/fences", #"{"shape":{"type":"circle","center":{"lat":1,"lng":1},"radius_m":-3}}"#).status == 400)
        #expect(try engine.post("/v1/fences", "{not json").status == 400)
        let driver = TrackingTokens.token(.driver, "9")
        #expect(try engine.post("/v1/fences", circleBody, token: driver).status == 403)
        #expect(try engine.get("/v1/fences", token: nil).status == 401)

        let deleted = try httpRequest(port: engine.http, method: "DELETE", path: "/v1/fences/kamppi",
                                      headers: [("Authorization", "Bearer \(TestEngine.admin)")])
        #expect(deleted.status == 200)
        #expect(try engine.get("/v1/fences/kamppi").status == 404)
        #expect(json(try engine.get("/v1/fences/kamppi")).description.contains("fence_not_found"))
    }

    @Test("UDP pings through the real ingest: a WebSocket subscriber and the fence's webhook get enter, exit and cross; /metrics counts them")
    func eventsReachSubscribersAndWebhooks() throws {
        let receiver = try LocalHTTPReceiver { _ in 200 }
        defer { receiver.stop() }
        let secret = [UInt8](repeating: 0x42, count: 16)
        let engine = try TestEngine(configure: { $0.webhookSecret = secret })
        defer { engine.close() }
        let body = circleBody.replacingOccurrences(of: #""meta""#, with: #""webhook":"\#(receiver.url)","meta""#)
        #expect(try engine.post("/v1/fences", body).status == 201)

        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/events?token=\(TestEngine.admin)")
        #expect(ws.status == 101)
        try ws.send(text: #"{"op":"subscribe","fences":["kamppi"]}"#)
        _ = try ws.readJSON(type: "subscribed")

        let now = engine.nowMs
        try ping(engine, 5, west, ts: now)
        #expect(try eventually { try engine.get("/v1/drivers/5").status == 200 })
        try ping(engine, 5, centre, ts: now + 1_000)
        try ping(engine, 5, east, ts: now + 2_000)
        try ping(engine, 5, west, ts: now + 3_000)
        let events = try fenceEvents(ws, 3)
        #expect(events.map { $0["event"] as? String } == ["enter", "exit", "cross"])
        let first = events[0]
        #expect(first["fence"] as? String == "kamppi" && (first["driver"] as? NSNumber)?.uint64Value == 5)
        #expect((first["ts"] as? NSNumber)?.int64Value == now + 1_000)
        #expect(first["lat"] as? Double == 60.17 && first["lng"] as? Double == 24.94)

        #expect(receiver.waitForRequests(3))
        let posts = receiver.requests
        #expect(Set(posts.map { $0.headers["x-hexfleet-event"] ?? "" }) == ["fence.enter", "fence.exit", "fence.cross"])
        for post in posts {
            let mac = HMAC<SHA256>.authenticationCode(for: post.body, using: SymmetricKey(data: secret))
            #expect(post.headers["x-hexfleet-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            let event = (try JSONSerialization.jsonObject(with: Data(post.body)) as? [String: Any]) ?? [:]
            #expect(event["type"] as? String == "fence" && event["fence"] as? String == "kamppi")
        }
        #expect(try eventually { try engine.metric(#"hexfleet_fence_events_total{event="enter"}"#) == 1 })
        #expect(try engine.metric(#"hexfleet_fence_events_total{event="cross"}"#) == 1)
    }

    @Test("with fence_thread false (--no-fence-thread) the checks run on the loop: the same enter, exit and cross, in order; fence changes between pings apply to the pings after them")
    func inlineChecks() throws {
        for threaded in [false, true] {
            let engine = try TestEngine(configure: { $0.fenceThread = threaded })
            defer { engine.close() }
            #expect(try engine.post("/v1/fences", circleBody).status == 201)
            let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/events?token=\(TestEngine.admin)")
            try ws.send(text: #"{"op":"subscribe","fences":"*"}"#)
            _ = try ws.readJSON(type: "subscribed")
            let now = engine.nowMs
            try ping(engine, 5, west, ts: now)
            #expect(try eventually { try engine.get("/v1/drivers/5").status == 200 })
            try ping(engine, 5, centre, ts: now + 1_000)
            try ping(engine, 5, east, ts: now + 2_000)
            try ping(engine, 5, west, ts: now + 3_000)
            #expect(try fenceEvents(ws, 3).map { $0["event"] as? String } == ["enter", "exit", "cross"], "threaded: \(threaded)")
            // A second fence over the same place, then a crossing: both fences fire, the new one only after its POST.
            #expect(try engine.post("/v1/fences", circleBody.replacingOccurrences(of: #""kamppi""#, with: #""kamppi2""#)).status == 201)
            try ping(engine, 5, east, ts: now + 4_000)
            let crossed = try fenceEvents(ws, 2)
            #expect(Set(crossed.map { $0["fence"] as? String ?? "" }) == ["kamppi", "kamppi2"], "threaded: \(threaded)")
            #expect(crossed.allSatisfy { $0["event"] as? String == "cross" })
            #expect((try engine.metric("hexfleet_fence_worker_waits_total") ?? 0) == 0)
        }
    }

    @Test("a subscriber to every fence hears a roaming fence: drivers coming within and leaving a moving driver's radius")
    func roaming() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        #expect(try engine.post("/v1/fences", #"{"id":"escort","shape":{"type":"near_driver","driver":1,"radius_m":300}}"#).status == 201)
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/events?token=\(TestEngine.admin)")
        try ws.send(text: #"{"op":"subscribe","fences":"*"}"#)
        _ = try ws.readJSON(type: "subscribed")
        let now = engine.nowMs
        try ping(engine, 1, centre, ts: now)
        try ping(engine, 2, east, ts: now)          // ~550 m away
        #expect(try eventually { try engine.get("/v1/drivers/2").status == 200 })
        Thread.sleep(forTimeInterval: 0.3)          // let a tick see the first membership (silent)
        try ping(engine, 1, (centre.latE7, centre.lngE7 + 60_000), ts: now + 1_000)   // driver 1 moves east, ~220 m from 2
        let enter = try ws.readJSON(type: "fence")
        #expect(enter["event"] as? String == "enter" && (enter["driver"] as? NSNumber)?.uint64Value == 2)
        try ping(engine, 1, west, ts: now + 2_000)
        let exit = try ws.readJSON(type: "fence")
        #expect(exit["event"] as? String == "exit" && exit["fence"] as? String == "escort")
    }

    @Test("fences survive a restart, and the first pings after it fire no false transitions")
    func restart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-fences-\(UInt32.random(in: 0 ... .max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let engine = try TestEngine(configure: { $0.dataDirectory = dir })
            #expect(try engine.post("/v1/fences", circleBody).status == 201)
            let now = engine.nowMs
            try ping(engine, 8, centre, ts: now)
            #expect(try eventually { try engine.get("/v1/drivers/8").status == 200 })
            engine.close()
        }
        let engine = try TestEngine(configure: { $0.dataDirectory = dir })
        defer { engine.close() }
        #expect(json(try engine.get("/v1/fences/kamppi"))["id"] as? String == "kamppi")
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/events?token=\(TestEngine.admin)")
        try ws.send(text: #"{"op":"subscribe","fences":"*"}"#)
        _ = try ws.readJSON(type: "subscribed")
        let now = engine.nowMs
        try ping(engine, 8, centre, ts: now)                       // still inside: silent
        try ping(engine, 9, west, ts: now)                         // first seen outside: silent
        try ping(engine, 8, (centre.latE7 + 100, centre.lngE7), ts: now + 1_000)
        try ping(engine, 9, centre, ts: now + 1_000)               // a real enter
        let first = try ws.readJSON(type: "fence")
        #expect((first["driver"] as? NSNumber)?.uint64Value == 9 && first["event"] as? String == "enter")
        try ping(engine, 8, east, ts: now + 2_000)                 // a real exit
        let second = try ws.readJSON(type: "fence")
        #expect((second["driver"] as? NSNumber)?.uint64Value == 8 && second["event"] as? String == "exit")
        #expect(try eventually { try engine.metric(#"hexfleet_fence_events_total{event="exit"}"#) == 1 })
        #expect(try engine.metric(#"hexfleet_fence_events_total{event="enter"}"#) == 1)
    }
}

@Suite(.serialized) struct DriveTimeFenceTests {
    @Test("a drive-time fence on Monaco's roads holds its centre, not a point beyond the budget; refused without a graph")
    func driveTime() throws {
        let engine = try TestEngine { $0.graphPath = EngineRoutingTests.monaco }
        defer { engine.close() }
        let body = #"{"id":"casino","shape":{"type":"drive_time","center":{"lat":43.7396,"lng":7.4276},"max_s":60}}"#
        let created = try engine.post("/v1/fences", body)
        #expect(created.status == 201)
        let near = (json(try engine.get("/v1/fences/containing?lat=43.7396&lng=7.4276"))["fences"] as? [[String: Any]]) ?? []
        #expect(near.map { $0["id"] as? String } == ["casino"])
        // Fontvieille, across the principality: more than a minute's drive.
        let far = (json(try engine.get("/v1/fences/containing?lat=43.7285&lng=7.4150"))["fences"] as? [[String: Any]]) ?? []
        #expect(far.isEmpty)

        let bare = try TestEngine()
        defer { bare.close() }
        let refused = try bare.post("/v1/fences", body)
        #expect(refused.status == 400 && json(refused).description.contains("drive_time_unavailable"))
    }
}

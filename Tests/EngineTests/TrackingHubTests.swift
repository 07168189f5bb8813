import Engine
import FleetIndex
import Foundation
import HexGeo
import Testing
import TestSupport
import Vocabulary

/// Tokens for the test engine's token secret.
enum TrackingTokens {
    static let authority = TokenAuthority(secret: [UInt8](repeating: 0x33, count: 32), adminToken: nil)
    static func token(_ role: Role, _ subject: String) -> String {
        authority.issue(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970) + 3_600)
    }
}

/// Monaco, where the test drivers are.
private let inside = (latE7: Int32(437_300_000), lngE7: Int32(74_200_000))
private let outside = (latE7: Int32(485_000_000), lngE7: Int32(23_000_000))

private func drivers(_ m: [String: Any]) -> [[String: Any]] { m["drivers"] as? [[String: Any]] ?? [] }

enum TrackingTestCells {
    static func cell(latE7: Int32, lngE7: Int32, resolution: Int) -> String? {
        (try? H3.latLngToCell(LatLng(degrees: Double(latE7) * 1e-7, Double(lngE7) * 1e-7), resolution: resolution))?.description
    }
}

/// A subscriber to the whole test area whose socket takes only 4 KiB: it falls behind as soon as a fleet moves.
private func wholeAreaSlowReader(_ engine: TestEngine) throws -> TrackingTestClient {
    let slow = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)",
                                      receiveBufferBytes: 4_096)
    try slow.send(text: #"{"op":"subscribe","bbox":[-10,-10,10,10]}"#)
    return slow
}

/// One move of drivers 1…`drivers` (a multiple of 500), in gateway-signed datagrams of 500 records, every fix
/// stamped `start + round` and a little further along than the round before.
private func sendFleetRound(_ engine: TestEngine, gateway: UInt64, drivers: Int, start: Int64, round: Int64) throws {
    let key = engine.keys.gatewayKey(gateway)
    var datagrams: [[UInt8]] = []
    for block in 0..<(drivers / 500) {
        let records = (0..<500).map { i in
            PingRecord(driverID: UInt64(block * 500 + i + 1), timestampMs: start + round,
                       latE7: Int32(i * 1_000 + Int(round)), lngE7: Int32(block * 1_000_000), status: 1)
        }
        datagrams.append(PingWire.encode(records, signerID: gateway, gateway: true, key: key))
    }
    try sendUDP(port: engine.udp, datagrams)
}

/// The timestamp of every live driver the table holds in the fleet rounds' area (`GET /v1/drivers/within`).
private func tableTimestamps(_ engine: TestEngine) throws -> [UInt64: Int64] {
    let list = (try engine.get("/v1/drivers/within?polygon=-1,-1;-1,1;1,1;1,-1").json as? [String: Any])
        .map(drivers) ?? []
    var out: [UInt64: Int64] = [:]
    for d in list {
        if let id = (d["id"] as? NSNumber)?.uint64Value, let ts = (d["ts"] as? NSNumber)?.int64Value { out[id] = ts }
    }
    return out
}

/// The timestamp of the fix the table holds for `driver`, nil when it holds none.
private func tableTimestamp(_ engine: TestEngine, _ driver: UInt64) throws -> Int64? {
    ((try engine.get("/v1/drivers/\(driver)").json as? [String: Any])?["ts"] as? NSNumber)?.int64Value
}

@Suite(.serialized) struct TrackingHubTests {
    @Test("a bbox subscriber gets one coalesced positions message per tick, latest fix only, nothing from outside")
    func bboxCoalesced() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)")
        #expect(ws.status == 101)
        try ws.send(text: #"{"op":"subscribe","bbox":[43.7,7.4,43.8,7.5]}"#)
        let ack = try ws.readJSON(type: "subscribed")
        #expect((ack["bbox"] as? [Double]) == [43.7, 7.4, 43.8, 7.5])

        let now = engine.nowMs
        let fixes = (0..<3).map { i in
            PingRecord(driverID: 7, timestampMs: now + Int64(i), latE7: inside.latE7 + Int32(i) * 100, lngE7: inside.lngE7, status: 1)
        }
        let away = PingRecord(driverID: 8, timestampMs: now, latE7: outside.latE7, lngE7: outside.lngE7, status: 1)
        try sendUDP(port: engine.udp, [
            PingWire.encode(fixes, signerID: 7, gateway: false, key: engine.keys.driverKey(7)),
            PingWire.encode([away], signerID: 8, gateway: false, key: engine.keys.driverKey(8)),
        ])
        let m = try ws.readJSON(type: "positions")
        let list = drivers(m)
        #expect(list.count == 1)
        let d = try #require(list.first)
        #expect((d["id"] as? NSNumber)?.uint64Value == 7)
        #expect((d["ts"] as? NSNumber)?.int64Value == now + 2)
        #expect(d["lat"] as? Double == 43.73002 && d["lng"] as? Double == 7.42)
        #expect(d["status"] as? String == "available")

        // A second move reaches the subscriber too, and leaving the box stops the updates.
        let next = PingRecord(driverID: 7, timestampMs: now + 10, latE7: inside.latE7, lngE7: inside.lngE7 + 500, status: 3)
        try sendUDP(port: engine.udp, [PingWire.encode([next], signerID: 7, gateway: false, key: engine.keys.driverKey(7))])
        let second = try #require(drivers(try ws.readJSON(type: "positions")).first)
        #expect(second["status"] as? String == "on_trip" && (second["ts"] as? NSNumber)?.int64Value == now + 10)
        #expect(try engine.metric("hexfleet_track_messages_total") ?? 0 >= 2)
    }

    @Test("fixes go out without waiting for the tick: at once when the hub is idle, after the fan-out interval when not")
    func leadingEdge() throws {
        // A tick far longer than the test: every position below can only have come from the fan-out scheduling.
        let engine = try TestEngine { c in
            c.trackTickMs = 600_000
            c.tracking.fanoutIntervalMs = 50
        }
        defer { engine.close() }
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)")
        try ws.send(text: #"{"op":"subscribe","driver":21}"#)
        _ = try ws.readJSON(type: "subscribed")
        let now = engine.nowMs
        for i in 0..<3 {   // the first goes out at once; the next two within the 50 ms interval after it
            let r = PingRecord(driverID: 21, timestampMs: now + Int64(i), latE7: inside.latE7 + Int32(i), lngE7: inside.lngE7, status: 1)
            try sendUDP(port: engine.udp, [PingWire.encode([r], signerID: 21, gateway: false, key: engine.keys.driverKey(21))])
            var seen: Int64 = -1
            while seen < now + Int64(i) {
                let d = try #require(drivers(try ws.readJSON(type: "positions")).first)
                seen = (d["ts"] as? NSNumber)?.int64Value ?? -1
            }
            #expect(seen == now + Int64(i))
        }
    }

    @Test("driver and cell subscriptions, a snapshot on subscribe, and one entry when several subscriptions match")
    func driverAndCells() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let now = engine.nowMs
        try sendUDP(port: engine.udp, [PingWire.encode([PingRecord(driverID: 5, timestampMs: now, latE7: inside.latE7,
                                                                    lngE7: inside.lngE7, status: 1)],
                                                       signerID: 5, gateway: false, key: engine.keys.driverKey(5))])
        #expect(try eventually { try engine.get("/v1/drivers/5").status == 200 })

        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track",
                                        headers: [("Authorization", "Bearer \(TestEngine.admin)")])
        try ws.send(text: #"{"op":"subscribe","driver":5}"#)
        #expect((try ws.readJSON(type: "subscribed"))["driver"] as? Int == 5)
        let snap = try ws.readJSON(type: "positions")
        #expect(drivers(snap).map { ($0["id"] as? NSNumber)?.uint64Value } == [5])

        // The resolution-7 and resolution-9 cells holding the driver (Monaco).
        let res9 = try #require(TrackingTestCells.cell(latE7: inside.latE7, lngE7: inside.lngE7, resolution: 9))
        let res7 = try #require(TrackingTestCells.cell(latE7: inside.latE7, lngE7: inside.lngE7, resolution: 7))
        try ws.send(text: #"{"op":"subscribe","cells":["\#(res9)","\#(res7)"]}"#)
        #expect((try ws.readJSON(type: "subscribed"))["cells"] as? Int == 2)

        try sendUDP(port: engine.udp, [PingWire.encode([PingRecord(driverID: 5, timestampMs: now + 5, latE7: inside.latE7,
                                                                    lngE7: inside.lngE7, status: 2)],
                                                       signerID: 5, gateway: false, key: engine.keys.driverKey(5))])
        var update = try ws.readJSON(type: "positions")
        while (drivers(update).first?["ts"] as? NSNumber)?.int64Value != now + 5 { update = try ws.readJSON(type: "positions") }
        #expect(drivers(update).count == 1)
        #expect(drivers(update).first?["status"] as? String == "to_pickup")

        try ws.send(text: #"{"op":"unsubscribe","driver":5}"#)
        #expect((try ws.readJSON(type: "unsubscribed"))["driver"] as? Int == 5)
    }

    @Test("binary format: an 8-byte header, then 32-byte records in the ping layout")
    func binaryFormat() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?format=binary&token=\(TestEngine.admin)")
        try ws.send(text: #"{"op":"subscribe","bbox":[43,7,44,8]}"#)
        _ = try ws.readJSON(type: "subscribed")
        let now = engine.nowMs
        let r = PingRecord(driverID: 42, timestampMs: now, latE7: inside.latE7, lngE7: inside.lngE7, speedCmPerSecond: 830,
                           headingCentidegrees: 9_000, accuracyDecimetres: 50, status: 3)
        try sendUDP(port: engine.udp, [PingWire.encode([r], signerID: 42, gateway: false, key: engine.keys.driverKey(42))])
        var frame = try ws.readFrame()
        while case .text = frame { frame = try ws.readFrame() }
        guard case .binary(let bytes) = frame else { Issue.record("expected a binary frame, got \(frame)"); return }
        try #require(bytes.count == 8 + 32)
        #expect(bytes[0] == 1 && bytes[1] == 1 && bytes[2] == 0 && bytes[3] == 0)
        #expect(bytes[4] == 1 && bytes[5] == 0 && bytes[6] == 0 && bytes[7] == 0)
        let decoded = bytes.withUnsafeBytes { PingWire.record(at: 8, in: $0) }
        #expect(decoded == r)
    }

    @Test("permissions: tokens at upgrade, drivers follow only themselves, customers only their order, anonymous only in demo")
    func permissions() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let anonymous = try TrackingTestClient(port: engine.http, path: "/v1/ws/track")
        #expect(anonymous.status == 401)
        let forged = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=hf1.admin.x.99999999999.forged")
        #expect(forged.status == 401 && forged.refusal.contains("invalid_token"))
        let badFormat = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?format=xml&token=\(TestEngine.admin)")
        #expect(badFormat.status == 400)

        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.driver, "9"))")
        #expect(driver.status == 101)
        try driver.send(text: #"{"op":"subscribe","driver":10}"#)
        #expect((try driver.readJSON(type: "error"))["code"] as? String == "forbidden")
        try driver.send(text: #"{"op":"subscribe","driver":9}"#)
        #expect((try driver.readJSON(type: "subscribed"))["driver"] as? Int == 9)
        try driver.send(text: #"{"op":"subscribe","bbox":[0,0,1,1]}"#)
        #expect((try driver.readJSON(type: "error"))["code"] as? String == "forbidden")

        let customer = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.customer, "c1"))")
        try customer.send(text: #"{"op":"subscribe","order":123456}"#)
        #expect((try customer.readJSON(type: "error"))["code"] as? String == "forbidden")
        try customer.send(text: #"{"op":"subscribe","driver":9}"#)
        #expect((try customer.readJSON(type: "error"))["code"] as? String == "forbidden")

        let dispatcher = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.dispatcher, "fleetA"))")
        try dispatcher.send(text: #"{"op":"subscribe","bbox":[0,0,1,1]}"#)
        #expect((try dispatcher.readJSON(type: "subscribed"))["bbox"] != nil)

        let demo = try TestEngine(configure: { $0.demo = true; $0.demoDrivers = 0 })
        defer { demo.close() }
        let viewer = try TrackingTestClient(port: demo.http, path: "/v1/ws/track")
        #expect(viewer.status == 101)
        try viewer.send(text: #"{"op":"subscribe","bbox":[0,0,1,1]}"#)
        #expect((try viewer.readJSON(type: "subscribed"))["bbox"] != nil)
        try viewer.send(text: #"{"op":"subscribe","driver":1}"#)
        #expect((try viewer.readJSON(type: "error"))["code"] as? String == "forbidden")
    }

    @Test("bad commands get error codes; limits hold; an oversized command closes with 1009")
    func badCommandsAndLimits() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)")
        let cases: [(String, String)] = [
            ("not json", "invalid_json"),
            (#"{"op":"dance"}"#, "unknown_op"),
            (#"{"bbox":[0,0,1,1]}"#, "unknown_op"),
            (#"{"op":"subscribe"}"#, "invalid_parameter"),
            (#"{"op":"subscribe","driver":-1}"#, "invalid_parameter"),
            (#"{"op":"subscribe","bbox":[10,0,5,1]}"#, "invalid_bbox"),
            (#"{"op":"subscribe","bbox":[0,0,1]}"#, "invalid_bbox"),
            (#"{"op":"subscribe","bbox":[0,0,91,1]}"#, "invalid_bbox"),
            (#"{"op":"subscribe","cells":["zzz"]}"#, "invalid_cell"),
            (#"{"op":"subscribe","cells":[]}"#, "invalid_cell"),
        ]
        for (command, code) in cases {
            try ws.send(text: command)
            #expect((try ws.readJSON(type: "error"))["code"] as? String == code, "\(command)")
        }
        try ws.send(binary: [1, 2, 3])
        #expect((try ws.readJSON(type: "error"))["code"] as? String == "bad_request")

        let limit = TrackingConfiguration()
        for i in 0..<limit.maxSubscriptions {
            try ws.send(text: #"{"op":"subscribe","driver":\#(1000 + i)}"#)
            _ = try ws.readJSON(type: "subscribed")
        }
        try ws.send(text: #"{"op":"subscribe","driver":1}"#)
        #expect((try ws.readJSON(type: "error"))["code"] as? String == "too_many_subscriptions")
        let tooManyCells = (0...limit.maxCellsPerSubscription).map { _ in #""8928308280fffff""# }.joined(separator: ",")
        try ws.send(text: #"{"op":"subscribe","cells":[\#(tooManyCells)]}"#)
        #expect((try ws.readJSON(type: "error"))["code"] as? String == "too_many_subscriptions")

        try ws.send(text: String(repeating: " ", count: limit.maxTrackMessageBytes + 1))
        #expect(try ws.readClose() == 1009)
    }

    @Test("a reader held back over its soft budget gets every driver's latest fix once it reads again")
    func heldBackReaderCatchesUp() throws {
        // Held back for long, a reader would be closed by the stall rule (`maxStalledMs`, its own test); this one
        // is about what a held-back reader gets, however slowly a busy machine runs the test.
        let engine = try TestEngine { c in c.tracking.maxStalledMs = 600_000 }
        defer { engine.close() }
        let slow = try wholeAreaSlowReader(engine)
        _ = try slow.readJSON(type: "subscribed")
        let start = engine.nowMs
        let fleet = 2_000
        func sendRound(_ round: Int64) throws {
            try sendFleetRound(engine, gateway: 78, drivers: fleet, start: start, round: round)
        }
        // Rounds until the hub holds the reader back (a skipped tick), then one last round that only its backlog
        // can deliver: no fix follows it.
        var round: Int64 = 0
        #expect(try eventually(within: 20) {
            round += 1
            try sendRound(round)
            usleep(20_000)
            return try engine.metric("hexfleet_track_skipped_ticks_total") ?? 0 >= 1
        })
        round += 1
        // The last round, resent until the table holds every driver's fix of it: a datagram can be lost on a busy
        // loopback, and a fix already taken comes back as a replay, which changes nothing.
        try sendRound(round)
        #expect(try eventually(within: 20) {
            let held = try tableTimestamps(engine)
            if held.count == fleet && held.values.allSatisfy({ $0 == start + round }) { return true }
            try sendRound(round)
            return false
        })
        #expect(try engine.metric("hexfleet_ws_evictions_total") ?? 0 == 0)
        var latest: [UInt64: Int64] = [:]
        #expect(try eventually(within: 10) {
            for d in drivers(try slow.readJSON(type: "positions")) {
                if let id = (d["id"] as? NSNumber)?.uint64Value, let ts = (d["ts"] as? NSNumber)?.int64Value {
                    latest[id] = max(latest[id] ?? 0, ts)
                }
            }
            return latest.count == fleet && latest.values.allSatisfy { $0 == start + round }
        })
    }

    @Test("a reader that stops reading is skipped, then closed with 1013 and counted, while others keep receiving")
    func slowReaderEvicted() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let slow = try wholeAreaSlowReader(engine)
        let fast = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)")
        try fast.send(text: #"{"op":"subscribe","driver":1}"#)
        _ = try fast.readJSON(type: "subscribed")
        // 4,000 drivers moving every round until the slow reader is evicted.
        var round: Int64 = 0
        let start = engine.nowMs
        let evicted = try eventually(within: 30) {
            round += 1
            try sendFleetRound(engine, gateway: 77, drivers: 4_000, start: start, round: round)
            return try engine.metric("hexfleet_ws_evictions_total") ?? 0 >= 1
        }
        #expect(evicted)
        #expect(try engine.metric("hexfleet_track_skipped_ticks_total") ?? 0 >= 1)
        #expect(try slow.readClose() == 1013)
        // Driver 1's fix of the last round, resent until the table has it (its datagram may have been lost).
        #expect(try eventually(within: 10) {
            if try tableTimestamp(engine, 1) == start + round { return true }
            try sendFleetRound(engine, gateway: 77, drivers: 4_000, start: start, round: round)
            return false
        })
        // The fast subscriber still gets driver 1's latest fix.
        var latest: Int64 = 0
        #expect(try eventually(within: 10) {
            latest = (drivers(try fast.readJSON(type: "positions")).first?["ts"] as? NSNumber)?.int64Value ?? latest
            return latest == start + round
        })
    }

    @Test("a bbox or cells subscription's snapshot holds at most maxSnapshotDrivers live drivers, and all of them under it")
    func snapshotCapped() throws {
        let cap = 40
        let engine = try TestEngine { c in c.tracking.maxSnapshotDrivers = cap }
        defer { engine.close() }
        // 500 live drivers in a column north of `inside`, 1e-5° apart, sent until the table holds them all.
        let now = engine.nowMs
        let records = (0..<500).map { i in
            PingRecord(driverID: UInt64(i + 1), timestampMs: now, latE7: inside.latE7 + Int32(i) * 100, lngE7: inside.lngE7, status: 1)
        }
        let datagram = PingWire.encode(records, signerID: 79, gateway: true, key: engine.keys.gatewayKey(79))
        #expect(try eventually(within: 20) {
            try sendUDP(port: engine.udp, [datagram])
            return try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 500
        })
        func snapshot(_ command: String) throws -> [UInt64] {
            let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 15)
            try ws.send(text: command)
            _ = try ws.readJSON(type: "subscribed")
            return drivers(try ws.readJSON(type: "positions")).compactMap { ($0["id"] as? NSNumber)?.uint64Value }
        }
        // A box around all 500, and the resolution-5 cell holding them (about 8 km across): the cap's worth each.
        let all = try snapshot(#"{"op":"subscribe","bbox":[43,7,44,8]}"#)
        #expect(all.count == cap && Set(all).count == cap && all.allSatisfy { (1...500).contains($0) }, "\(all.count)")
        let res5 = try #require(TrackingTestCells.cell(latE7: inside.latE7, lngE7: inside.lngE7, resolution: 5))
        #expect(TrackingTestCells.cell(latE7: inside.latE7 + 499 * 100, lngE7: inside.lngE7, resolution: 5) == res5)
        let inCell = try snapshot(#"{"op":"subscribe","cells":["\#(res5)"]}"#)
        #expect(inCell.count == cap && Set(inCell).count == cap, "\(inCell.count)")
        // Under the cap, the snapshot is every live driver in the box: drivers 1…10 (latitudes up to 43.73009).
        let few = try snapshot(#"{"op":"subscribe","bbox":[43.7299,7.41,43.730095,7.43]}"#)
        #expect(Set(few) == Set(1...10), "\(few.sorted())")
    }

    @Test("a reader over its soft budget but under its hard budget is closed with 1013 once maxStalledMs passes")
    func stalledReaderEvicted() throws {
        let stalledMs: Int64 = 1_500
        let engine = try TestEngine { c in
            c.tracking.maxStalledMs = stalledMs
            // Far above what a held-back reader can queue (it gets nothing more once over the soft budget: about
            // the soft budget and one message), so only the stall rule can close it.
            c.tracking.hardBudgetBytes = 3 << 20
        }
        defer { engine.close() }
        let slow = try wholeAreaSlowReader(engine)
        _ = try slow.readJSON(type: "subscribed")
        let start = engine.nowMs
        // Rounds of 2,000 drivers until the hub holds the reader back (a skipped tick, not an eviction), then none.
        var round: Int64 = 0
        #expect(try eventually(within: 20) {
            round += 1
            try sendFleetRound(engine, gateway: 80, drivers: 2_000, start: start, round: round)
            usleep(20_000)
            return try engine.metric("hexfleet_track_skipped_ticks_total") ?? 0 >= 1
        })
        // It reads nothing and nothing is sent: it stays over the soft budget until the stall rule closes it.
        #expect(try eventually(within: 30) { try engine.metric("hexfleet_ws_evictions_total") ?? 0 >= 1 })
        #expect(engine.nowMs - start >= stalledMs, "not before maxStalledMs over the soft budget")
        #expect(try slow.readClose() == 1013)
    }
}

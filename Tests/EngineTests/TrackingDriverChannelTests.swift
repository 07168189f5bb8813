@testable import Engine
import FleetIndex
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

@Suite(.serialized) struct TrackingDriverChannelTests {
    @Test("quiet tracking and driver connections are each pinged once per keepalive interval, spread over ticks")
    func keepalivesSpread() throws {
        // Eight keepalive slots of one 250 ms tick each. Viewers take hub slots 0…7 in the order they connect and
        // drivers 1…8 fall in slots 1…7, 0 (id modulo 8), so each endpoint has one connection per slot: spread
        // over ticks, their pings go out in eight different ticks, while a burst would send them all in one.
        let tickMs = 250.0
        let engine = try TestEngine { c in
            c.trackTickMs = UInt64(tickMs)
            c.tracking.keepaliveMs = 2_000
        }
        defer { engine.close() }
        let viewers = try (0..<8).map { _ in
            try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 15)
        }
        let drivers = try (1...8).map { id in
            try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "\(id)"))",
                                   timeoutSeconds: 15)
        }
        let all = viewers + drivers
        for ws in all { #expect(ws.status == 101) }

        // Every connection's first two pings, each noted when it arrives (poll over all of them, no fixed order).
        var arrivals = [[Double]](repeating: [], count: all.count)
        let deadline = Date().addingTimeInterval(30)
        while arrivals.contains(where: { $0.count < 2 }), Date() < deadline {
            var fds = all.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = all.contains { $0.hasBufferedBytes } ? 0 : poll(&fds, nfds_t(fds.count), 100)
            guard ready >= 0 else { continue }
            let now = Date().timeIntervalSince1970
            for (i, ws) in all.enumerated() where fds[i].revents != 0 || ws.hasBufferedBytes {
                _ = try ws.readPing()
                if arrivals[i].count < 2 { arrivals[i].append(now) }
            }
        }
        #expect(arrivals.allSatisfy { $0.count == 2 }, "every connection hears a ping every keepalive interval")

        /// How many separate moments `times` fall in: arrivals less than half a tick apart count as one burst.
        func bursts(_ times: [Double]) -> Int {
            let sorted = times.sorted()
            return 1 + zip(sorted, sorted.dropFirst()).filter { $1 - $0 >= tickMs / 2_000 }.count
        }
        // Eight slots give eight bursts of one ping each, a tick apart. A reader held up on a busy machine may see a
        // few as one, so at least four separate bursts per endpoint and round; pinging everyone at once gives one.
        for (name, range) in [("viewers", 0..<8), ("drivers", 8..<16)] {
            for round in 0..<2 {
                let times = range.compactMap { arrivals[$0].count > round ? arrivals[$0][round] : nil }
                #expect(times.count == 8 && bursts(times) >= 4, "\(name)' pings of round \(round + 1): \(times.sorted())")
            }
        }
    }

    @Test("JSON and binary pings over /v1/ws/driver land in the index, count as ws, and foreign records are dropped")
    func pingsIn() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let ws = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "7"))")
        #expect(ws.status == 101)
        let now = engine.nowMs
        try ws.send(text: #"{"lat":43.7311,"lng":7.4211,"ts":\#(now),"speed":830,"heading":9000,"accuracy":50,"status":"on_trip"}"#)
        #expect(try eventually { try engine.get("/v1/drivers/7").status == 200 })
        let body = try #require(try engine.get("/v1/drivers/7").json as? [String: Any])
        #expect(body["lat"] as? Double == 43.7311 && body["status"] as? String == "on_trip" && body["speed"] as? Int == 830)

        // One frame, two records: our own (newer) and someone else's.
        var frame = [UInt8](repeating: 0, count: 64)
        frame.withUnsafeMutableBytes { d in
            PingWire.write(PingRecord(driverID: 7, timestampMs: now + 1, latE7: 437_400_000, lngE7: 74_300_000, status: 1), at: 0, into: d)
            PingWire.write(PingRecord(driverID: 8, timestampMs: now + 1, latE7: 437_400_000, lngE7: 74_300_000, status: 1), at: 32, into: d)
        }
        try ws.send(binary: frame)
        let error = try ws.readJSON(type: "error")
        #expect(error["code"] as? String == "foreign_driver")
        #expect((error["message"] as? String)?.hasPrefix("1 of 2 records dropped") == true)
        #expect(try eventually { abs(((try engine.get("/v1/drivers/7").json as? [String: Any])?["lat"] as? Double ?? 0) - 43.74) < 1e-9 })
        #expect(try engine.get("/v1/drivers/8").status == 404)
        #expect(try engine.metric("hexfleet_pings_accepted_total{transport=\"ws\"}") == 2)
        #expect(try engine.metric("hexfleet_pings_dropped_total{reason=\"foreign_driver\"}") == 1)

        // Refusals come back as error messages with the HTTP API's codes; the channel stays open.
        let refused: [(String, String)] = [
            (#"{"lat":43.7,"lng":7.4,"ts":\#(now - 5)}"#, "stale_timestamp"),
            (#"{"lat":95,"lng":7.4}"#, "invalid_coordinate"),
            (#"{"lat":43.7,"lng":7.4,"status":"flying"}"#, "invalid_status"),
            (#"{"lat":43.7,"lng":7.4,"ts":\#(now + 3_600_000)}"#, "timestamp_skew"),
            ("{", "invalid_json"),
            (#"{"op":"teleport"}"#, "unknown_op"),
        ]
        for (text, code) in refused {
            try ws.send(text: text)
            #expect((try ws.readJSON(type: "error"))["code"] as? String == code, "\(text)")
        }
        try ws.send(binary: [UInt8](repeating: 0, count: 33))
        #expect((try ws.readJSON(type: "error"))["code"] as? String == "bad_record")
        try ws.send(binary: [UInt8](repeating: 0, count: TrackingConfiguration().maxDriverBinaryBytes + 32))
        #expect(try ws.readClose() == 1009)
    }

    @Test("a newer connection of the same driver replaces the older one, which is closed with 1000 \"replaced…\"")
    func newerConnectionReplaces() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let path = "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "7"))"
        let old = try TrackingTestClient(port: engine.http, path: path, timeoutSeconds: 15)
        #expect(old.status == 101)
        let new = try TrackingTestClient(port: engine.http, path: path, timeoutSeconds: 15)
        #expect(new.status == 101)
        let close = try old.readCloseFrame()
        #expect(close.code == 1000 && close.reason.hasPrefix("replaced"), "\(close)")
        // The older one answers the close and the server ends it: its close must not take the driver's channel
        // from the newer one.
        try old.sendFrame(opcode: 8, [0x03, 0xE8])
        try old.readUntilClosed()
        // Dispatch answers a decline without an order through the driver's channel (`DriverChannel.push`): the
        // answer reaches the newer connection, so the channel is the newer one's.
        try new.send(text: #"{"op":"decline"}"#)
        #expect((try new.readJSON(type: "error"))["code"] as? String == "invalid_parameter")
        #expect(try engine.metric("hexfleet_ws_connections") == 1)
        try new.send(text: #"{"lat":43.7311,"lng":7.4211}"#)
        #expect(try eventually { try engine.get("/v1/drivers/7").status == 200 })
    }

    @Test("{\"op\":\"decline\"} on the driver channel declines the open offer: offer_declined, and the order goes to another courier, never back")
    func declineOverChannel() throws {
        let engine = try TestEngine(configure: {
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
        }, setup: { engine in engine.dispatch.enqueue(EngineDispatchTests.order(601, 43.7300, 7.4200)) })
        defer { engine.close() }
        // Driver 1, on its channel, is the only courier: the order is offered to it there.
        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "1"))",
                                            timeoutSeconds: 20)
        #expect(driver.status == 101)
        try driver.send(text: #"{"lat":43.7301,"lng":7.4201,"status":"available"}"#)
        let offer = try driver.readJSON(type: "offer")
        #expect((offer["order"] as? NSNumber)?.uint64Value == 601)

        // Driver 2 comes on duty; driver 1 declines over its channel.
        #expect(try engine.post("/v1/drivers/2/location", #"{"lat":43.7320,"lng":7.4220,"status":"available"}"#).status == 202)
        try driver.send(text: #"{"op":"decline","order":601}"#)
        let reply = try driver.readJSON()
        #expect(reply["type"] as? String == "offer_declined" && (reply["order"] as? NSNumber)?.uint64Value == 601, "\(reply)")
        let t2 = TrackingTokens.token(.driver, "2")
        #expect(try eventually { try openOffers(engine, driver: 2, token: t2) == [601] }, "the declined order is offered again")
        #expect(try openOffers(engine, driver: 1, token: TrackingTokens.token(.driver, "1")).isEmpty)

        // Driver 2 declines too. Rounds go on with the order waiting, and none offers it to driver 1 again: its
        // channel gets nothing before the answer to a marker sent after those rounds.
        #expect(try engine.post("/v1/orders/601/decline", "{}", token: t2).status == 200)
        func stat(_ stats: [String: Any], _ key: String) -> Int { (stats[key] as? NSNumber)?.intValue ?? -1 }
        let rounds = stat(try dispatchStats(engine), "rounds")
        #expect(try eventually(within: 20) {
            let stats = try dispatchStats(engine)
            return stat(stats, "rounds") >= rounds + 3 && stat(stats, "waiting") == 1 && stat(stats, "open_offers") == 0
        })
        #expect(try openOffers(engine, driver: 1, token: TrackingTokens.token(.driver, "1")).isEmpty)
        try driver.send(text: #"{"op":"decline"}"#)
        var before: [String] = []
        while true {
            let m = try driver.readJSON()
            if m["type"] as? String == "error" { #expect(m["code"] as? String == "invalid_parameter"); break }
            before.append(m["type"] as? String ?? "?")
        }
        #expect(!before.contains("offer"), "\(before)")
    }

    private func openOffers(_ engine: TestEngine, driver: Int, token: String) throws -> [UInt64] {
        let r = try engine.get("/v1/drivers/\(driver)/offers", token: token)
        return ((r.json as? [String: Any])?["offers"] as? [[String: Any]])?.compactMap { ($0["order"] as? NSNumber)?.uint64Value } ?? []
    }

    private func dispatchStats(_ engine: TestEngine) throws -> [String: Any] {
        try #require(try engine.get("/v1/dispatch/stats").json as? [String: Any])
    }

    @Test("the driver channel needs a driver token, or an admin naming the driver")
    func upgradePermissions() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        #expect(try TrackingTestClient(port: engine.http, path: "/v1/ws/driver").status == 401)
        #expect(try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=nope").status == 401)
        #expect(try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.customer, "c"))").status == 403)
        #expect(try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "7"))&driver=8").status == 403)
        #expect(try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TestEngine.admin)").status == 400)
        let admin = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?driver=12",
                                           headers: [("Authorization", "Bearer \(TestEngine.admin)")])
        #expect(admin.status == 101)
        try admin.send(text: #"{"lat":1,"lng":2}"#)
        #expect(try eventually { try engine.get("/v1/drivers/12").status == 200 })
    }

    @Test("a ping over the driver channel reaches a tracking subscriber of that driver")
    func driverToTracker() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let tracker = try TrackingTestClient(port: engine.http, path: "/v1/ws/track?token=\(TrackingTokens.token(.driver, "21"))")
        try tracker.send(text: #"{"op":"subscribe","driver":21}"#)
        _ = try tracker.readJSON(type: "subscribed")
        let driver = try TrackingTestClient(port: engine.http, path: "/v1/ws/driver?token=\(TrackingTokens.token(.driver, "21"))")
        try driver.send(text: #"{"lat":-33.8688,"lng":151.2093,"status":"break"}"#)
        let m = try tracker.readJSON(type: "positions")
        let d = try #require((m["drivers"] as? [[String: Any]])?.first)
        #expect((d["id"] as? NSNumber)?.uint64Value == 21 && d["lat"] as? Double == -33.8688 && d["status"] as? String == "break")
    }
}

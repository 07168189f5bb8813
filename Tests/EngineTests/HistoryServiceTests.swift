@testable import Engine
import Foundation
import Testing
import TestSupport

/// The position history through the real engine: UDP pings in, `GET /v1/drivers/{id}/history|trips` out, across a
/// restart.
@Suite(.serialized) struct HistoryServiceTests {
    private struct Fix: Equatable {
        var ts: Int64, latE7: Int32, lngE7: Int32, speed: UInt16, status: String
    }

    private static let statusNames = ["offline", "available", "to_pickup", "on_trip", "break"]

    private func history(_ engine: TestEngine, _ driver: UInt64, token: String = TestEngine.admin, query: String = "from_ms=0") throws -> [Fix] {
        let r = try engine.get("/v1/drivers/\(driver)/history?\(query)", token: token)
        let body = try #require(r.json as? [String: Any], "\(r.status) \(r.text)")
        let points = try #require(body["points"] as? [[String: Any]])
        return points.map { p in
            Fix(ts: (p["ts"] as! NSNumber).int64Value,
                latE7: Int32(((p["lat"] as! NSNumber).doubleValue * 1e7).rounded()),
                lngE7: Int32(((p["lng"] as! NSNumber).doubleValue * 1e7).rounded()),
                speed: UInt16((p["speed"] as! NSNumber).intValue), status: p["status"] as! String)
        }
    }

    @Test("every accepted ping reads back exactly, replays and rejected pings absent, across a restart")
    func acceptedPingsReadBack() throws {
        let dir = try OrdersFixture.dataDirectory()
        defer { OrdersFixture.remove(dir) }
        var expected: [UInt64: [Fix]] = [:]
        var engine = try OrdersFixture.engine(dir: dir, graph: false)
        let base = engine.nowMs - 300_000
        var rng = SeededRandom(seed: 0x4849)
        var datagrams: [[UInt8]] = []
        var originals: Set<Int> = []   // the datagrams whose 25 records are all accepted
        let gateway = engine.keys.gatewayKey(3)
        for step in 0..<40 {
            var records: [PingRecord] = []
            for driver in UInt64(1)...25 {
                let ts = base + Int64(step) * 5_000 + Int64(driver)
                let lat = Int32.random(in: 437_200_000...437_500_000, using: &rng)
                let lng = Int32.random(in: 74_000_000...74_400_000, using: &rng)
                let speed = UInt16.random(in: 0...3_000, using: &rng)
                let status = UInt8.random(in: 0...4, using: &rng)
                records.append(PingRecord(driverID: driver, timestampMs: ts, latE7: lat, lngE7: lng, speedCmPerSecond: speed, status: status))
                expected[driver, default: []].append(Fix(ts: ts, latE7: lat, lngE7: lng, speed: speed, status: Self.statusNames[Int(status)]))
            }
            datagrams.append(PingWire.encode(records, signerID: 3, gateway: true, key: gateway))
            originals.insert(datagrams.count - 1)
            // A replay of the same window and a record out of range: both dropped, neither in the history.
            if step % 7 == 0 { datagrams.append(datagrams[datagrams.count - 1]) }
            if step % 9 == 0 {
                datagrams.append(PingWire.encode([PingRecord(driverID: 1, timestampMs: base + Int64(step) * 5_000 + 2_500,
                                                             latE7: 950_000_000, lngE7: 0, status: 1)],
                                                 signerID: 3, gateway: true, key: gateway))
            }
        }
        var forged = datagrams[0]
        forged[forged.count - 1] ^= 0x55
        datagrams.append(forged)
        // Each window is taken before the next is sent, so a sanitized engine on a loaded machine is never flooded.
        // Every record is far older than the engine's stale limit (120 s), so the tick evicts the drivers between
        // windows: the replays below must still be dropped (the table remembers an evicted driver's last fix), and
        // the drop counts are exact, so a lost or doubly taken record fails here.
        var accepted = 0.0
        for chunk in stride(from: 0, to: datagrams.count, by: 8) {
            let window = chunk..<min(chunk + 8, datagrams.count)
            accepted += Double(25 * window.filter { originals.contains($0) }.count)
            try sendUDP(port: engine.udp, Array(datagrams[window]))
            let taken = accepted
            #expect(try eventually { try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") ?? 0 >= taken }, "window at \(chunk)")
        }
        #expect(try eventually { try engine.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") == 6 * 25 })
        #expect(try eventually { try engine.metric("hexfleet_udp_dropped_total{reason=\"range\"}") == 5 })
        #expect(try eventually { try engine.metric("hexfleet_udp_dropped_total{reason=\"bad_tag\"}") == 1 })
        // The oldest records are 5 min old at the start: a run slower than another 5 min would see them as skew.
        #expect(try engine.metric("hexfleet_udp_dropped_total{reason=\"skew\"}") ?? 0 == 0)
        #expect(try eventually { try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 1_000 })
        for driver in UInt64(1)...25 { #expect(try history(engine, driver) == expected[driver]) }
        // A window and a limit cut the answer in time order.
        let cut = try history(engine, 4, query: "from_ms=\(base + 50_000)&to_ms=\(base + 120_000)&limit=5")
        #expect(cut == Array(expected[4]!.filter { $0.ts >= base + 50_000 && $0.ts <= base + 120_000 }.prefix(5)))
        #expect(try eventually { try engine.metric("hexfleet_history_points_written_total") == 1_000 })
        engine.close()

        engine = try OrdersFixture.engine(dir: dir, graph: false)
        defer { engine.close() }
        for driver in UInt64(1)...25 { #expect(try history(engine, driver) == expected[driver], "after restart, driver \(driver)") }
    }

    @Test("a replay of an evicted driver's last datagram is dropped, and the history holds the fix once")
    func replayAfterEviction() throws {
        let dir = try OrdersFixture.dataDirectory()
        defer { OrdersFixture.remove(dir) }
        let engine = try OrdersFixture.engine(dir: dir, graph: false)
        defer { engine.close() }
        // Five minutes old: within the skew window (10 min behind), past the stale limit (120 s), so the next tick
        // evicts the driver.
        let ts = engine.nowMs - 300_000
        let datagram = PingWire.encode([PingRecord(driverID: 12, timestampMs: ts, latE7: 437_300_000, lngE7: 74_200_000, status: 1)],
                                       signerID: 12, gateway: false, key: engine.keys.driverKey(12))
        try sendUDP(port: engine.udp, [datagram])
        #expect(try eventually { try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 1 })
        #expect(try eventually { try engine.get("/v1/drivers/12").status == 404 }, "evicted as stale")
        try sendUDP(port: engine.udp, [datagram])
        #expect(try eventually { try engine.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") == 1 })
        #expect(try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 1)
        #expect(try history(engine, 12).map(\.ts) == [ts])
    }

    @Test("the pings taken just before a stop are on disk: read back after a restart, and no write fails without --data")
    func lastPingsBeforeStop() throws {
        let dir = try OrdersFixture.dataDirectory()
        defer { OrdersFixture.remove(dir) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let records = (UInt64(1)...20).map { PingRecord(driverID: $0, timestampMs: now - 1_000 + Int64($0), latE7: 437_300_000, lngE7: 74_200_000, status: 1) }
        let gateway = PingKeys(secret: TestEngine.secret).gatewayKey(3)
        let datagram = PingWire.encode(records, signerID: 3, gateway: true, key: gateway)
        // Stopped at once, inside the history's flush interval (500 ms): the last flush is the stop's.
        var engine = try OrdersFixture.engine(dir: dir, graph: false)
        try sendUDP(port: engine.udp, [datagram])
        #expect(try eventually(within: 60) { try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 20 })
        engine.close()
        engine = try OrdersFixture.engine(dir: dir, graph: false)
        for r in records { #expect(try history(engine, r.driverID).map(\.ts) == [r.timestampMs], "driver \(r.driverID)") }
        engine.close()

        // Without a data directory the log lives in a temporary one that the engine removes at stop, after the
        // history's last write.
        let stopped = EngineBox()
        let temporary = try TestEngine(configure: { $0.trackTickMs = 20 }, setup: { stopped.set($0) })
        try sendUDP(port: temporary.udp, [datagram])
        #expect(try eventually(within: 60) { try temporary.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 20 })
        temporary.close()
        let text = try #require(stopped.metricsText())
        #expect(text.contains("hexfleet_history_points_written_total 20\n"), "\(text.split(separator: "\n").filter { $0.contains("history") })")
        #expect(!text.contains("hexfleet_history_write_failures_total{reason=\"io\"} 1"))
    }

    /// Hands the engine built on the loop thread to the test thread, to read its metrics once it has stopped.
    private final class EngineBox: @unchecked Sendable {   // `engine` only under `lock`
        private let lock = NSLock()
        private var engine: Engine?
        func set(_ e: Engine) { lock.withLock { engine = e } }
        func metricsText() -> String? {
            lock.withLock {
                guard let engine else { return nil }
                return String(decoding: engine.metrics.render(), as: UTF8.self)
            }
        }
    }

    @Test("who may read a history, and bad windows")
    func permissionsAndErrors() throws {
        let dir = try OrdersFixture.dataDirectory()
        defer { OrdersFixture.remove(dir) }
        let engine = try OrdersFixture.engine(dir: dir, graph: false)
        defer { engine.close() }
        let own = try OrdersFixture.token(engine, "driver", "5")
        #expect(try engine.get("/v1/drivers/5/history", token: own).status == 200)
        #expect(try engine.get("/v1/drivers/6/history", token: own).status == 403)
        #expect(try engine.get("/v1/drivers/6/trips", token: own).status == 403)
        let customer = try OrdersFixture.token(engine, "customer", "9")
        #expect(try engine.get("/v1/drivers/5/history", token: customer).status == 403)
        #expect(try engine.get("/v1/drivers/5/history", token: nil).status == 401)
        #expect(try engine.get("/v1/drivers/5/history?from_ms=10&to_ms=5").status == 400)
        #expect(try engine.get("/v1/drivers/5/history?from_ms=abc").status == 400)
        #expect(try engine.get("/v1/drivers/5/history?limit=0").status == 400)
        #expect(try engine.get("/v1/drivers/x/history").status == 400)
        let empty = try #require(try engine.get("/v1/drivers/5/history").json as? [String: Any])
        #expect((empty["points"] as? [Any])?.isEmpty == true)
    }

    @Test("trips and stops from pings: drive, park four minutes, drive")
    func tripsFromPings() throws {
        let dir = try OrdersFixture.dataDirectory()
        defer { OrdersFixture.remove(dir) }
        let engine = try OrdersFixture.engine(dir: dir, graph: false)
        defer { engine.close() }
        let key = engine.keys.driverKey(11)
        let start = engine.nowMs - 540_000
        var records: [PingRecord] = []
        // 20 s apart: 3 min east at ~10 m/s, 4 min parked, 2 min north.
        for s in 0..<9 { records.append(PingRecord(driverID: 11, timestampMs: start + Int64(s) * 20_000, latE7: 437_300_000, lngE7: 74_100_000 + Int32(s) * 25_000, status: 3)) }
        for s in 9..<21 { records.append(PingRecord(driverID: 11, timestampMs: start + Int64(s) * 20_000, latE7: 437_300_000 + Int32(s % 3) * 100, lngE7: 74_100_000 + 8 * 25_000, status: 1)) }
        for s in 21..<27 { records.append(PingRecord(driverID: 11, timestampMs: start + Int64(s) * 20_000, latE7: 437_300_000 + Int32(s - 20) * 18_000, lngE7: 74_100_000 + 8 * 25_000, status: 3)) }
        try sendUDP(port: engine.udp, records.map { PingWire.encode([$0], signerID: 11, gateway: false, key: key) })
        #expect(try eventually { try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == Double(records.count) })
        let body = try #require(try engine.get("/v1/drivers/11/trips?from_ms=0").json as? [String: Any])
        let trips = try #require(body["trips"] as? [[String: Any]])
        let stops = try #require(body["stops"] as? [[String: Any]])
        #expect(trips.count == 2)
        #expect(stops.count == 1)
        if let stop = stops.first {
            #expect(((stop["duration_s"] as? NSNumber)?.doubleValue ?? 0) >= 180)
        }
        if let first = trips.first {
            // 8 legs of 0.0025° of longitude at 43.73° N.
            let leg = 0.0025 * .pi / 180 * 6_371_008.8 * cos(43.73 * .pi / 180)
            let d = (first["distance_m"] as? NSNumber)?.doubleValue ?? 0
            #expect(abs(d - 8 * leg) < 1, "\(d) vs \(8 * leg)")
            #expect((first["duration_s"] as? NSNumber)?.doubleValue == 160)
        }
    }
}

/// `GET /v1/orders/{id}/track`: the courier's points between pick-up and drop-off.
@Suite(.serialized) struct OrderTrackTests {
    typealias F = OrdersFixture

    @Test("the track holds the courier's pings from pick-up to delivery, none before or after, with the driven distance")
    func trackBetweenPickupAndDelivery() throws {
        let dir = try F.dataDirectory()
        defer { F.remove(dir) }
        let engine = try F.engine(dir: dir)
        defer { engine.close() }
        func ping(_ lat: Double, _ lng: Double) throws -> Int64 {
            let ts = engine.nowMs
            let body = #"{"lat":\#(lat),"lng":\#(lng),"ts":\#(ts),"status":"available"}"#
            #expect(try engine.post("/v1/drivers/61/location", body).status == 202)
            Thread.sleep(forTimeInterval: 0.005)
            return ts
        }
        _ = try ping(F.pickup.lat + 0.0005, F.pickup.lng + 0.0005)
        let alice = try F.token(engine, "customer", "71"), d61 = try F.token(engine, "driver", "61")
        let d62 = try F.token(engine, "driver", "62")
        let id = try F.id(try F.request(engine, "POST", "/v1/orders", F.orderBody(), token: alice))
        #expect(try eventually { try F.status(engine, id) == "dispatched" })
        let before = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)/track", token: alice))
        #expect((before["points"] as? [Any])?.isEmpty == true, "not picked up yet: no track")
        #expect(try engine.post("/v1/orders/\(id)/accept", "{}", token: d61).status == 200)
        _ = try ping(F.pickup.lat + 0.0002, F.pickup.lng + 0.0002)
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/pickup", token: d61).status == 200)
        Thread.sleep(forTimeInterval: 0.01)
        var driven: [(Double, Double, Int64)] = []
        for step in 1...6 {
            let lat = F.pickup.lat + Double(step) * (F.dropoff.lat - F.pickup.lat) / 6
            let lng = F.pickup.lng + Double(step) * (F.dropoff.lng - F.pickup.lng) / 6
            driven.append((lat, lng, try ping(lat, lng)))
        }
        Thread.sleep(forTimeInterval: 0.01)
        let onBoard = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)/track", token: alice))
        #expect((onBoard["points"] as? [Any])?.count == 6 && onBoard["to_ms"] is NSNull, "on board: up to now")
        #expect(try F.request(engine, "POST", "/v1/orders/\(id)/deliver", token: d61).status == 200)
        Thread.sleep(forTimeInterval: 0.01)
        _ = try ping(F.dropoff.lat + 0.001, F.dropoff.lng)
        let track = try F.object(try F.request(engine, "GET", "/v1/orders/\(id)/track", token: alice))
        let points = try #require(track["points"] as? [[String: Any]])
        #expect(points.map { ($0["ts"] as? NSNumber)?.int64Value ?? 0 } == driven.map(\.2))
        #expect((track["driver"] as? NSNumber)?.intValue == 61)
        var expected = 0.0
        for k in 1..<driven.count {
            expected += Geo.distance(driven[k - 1].0, driven[k - 1].1, driven[k].0, driven[k].1)
        }
        #expect(abs(((track["distance_m"] as? NSNumber)?.doubleValue ?? -1) - expected) < 0.5)
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)/track", token: d61).status == 200)
        #expect(try F.request(engine, "GET", "/v1/orders/\(id)/track", token: d62).errorCode == "order_not_found")
        #expect(try F.request(engine, "GET", "/v1/orders/999999/track").errorCode == "order_not_found")
    }
}

/// An independent haversine on the same sphere (IUGG mean radius), for expected distances.
private enum Geo {
    static func distance(_ lat1: Double, _ lng1: Double, _ lat2: Double, _ lng2: Double) -> Double {
        let r = 6_371_008.8, p = Double.pi / 180
        let a = sin((lat2 - lat1) * p / 2), b = sin((lng2 - lng1) * p / 2)
        let h = a * a + cos(lat1 * p) * cos(lat2 * p) * b * b
        return 2 * r * asin(min(1, h.squareRoot()))
    }
}

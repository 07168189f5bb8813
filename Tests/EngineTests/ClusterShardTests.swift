@testable import Engine
import FleetIndex
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HexGeo
import Testing
import TestSupport
import Vocabulary

/// A real `nats-server` (Debian's, with JetStream) on a free loopback port, stopped by `stop()`. Started directly,
/// not through scripts/nats-start: Foundation's `Process.waitUntilExit` never returned for that script, whose servers
/// outlive it.
final class NatsServers: Sendable {
    let urls: [String]
    private let process: Process
    private let directory: URL

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        close(s)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-cluster-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nats-server")
        process.arguments = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        urls = ["nats://127.0.0.1:\(port)"]
        guard eventually(within: 20, { (try? connectLoopback(port: port)).map { close($0); return true } ?? false }) else {
            process.terminate()
            throw LoopbackError.io("nats-server did not listen on \(port)")
        }
    }

    func stop() {
        process.terminate()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Two or three real engines on loopback sharing real NATS servers, each a shard with a fixed partition owner map.
@Suite(.serialized) struct ClusterShardTests {
    static let resolution = 7
    /// Two places in Monaco in different resolution-7 partitions (about 2 km apart).
    static let west = (lat: 43.7285, lng: 7.4130)
    static let east = (lat: 43.7470, lng: 7.4330)

    static func partition(_ p: (lat: Double, lng: Double)) throws -> H3Cell {
        try H3.latLngToCell(LatLng(degrees: p.lat, p.lng), resolution: resolution)
    }

    /// Engines named `nodes`, with `owners` (partition → node) fixed; other partitions have no owner.
    static func cluster(_ nodes: [String], owners: [H3Cell: String], nats: NatsServers,
                        queryTimeoutMs: UInt64 = 2_000, roads: Bool = false) throws -> [TestEngine] {
        try nodes.map { node in
            try TestEngine { c in
                c.natsServers = nats.urls
                c.history = false
                c.cluster.node = node
                c.cluster.partitionResolution = resolution
                c.cluster.staticOwners = Dictionary(uniqueKeysWithValues: owners.map { ($0.key.rawValue, $0.value) })
                c.cluster.queryTimeoutMs = queryTimeoutMs
                if roads { c.graphPath = OrdersFixture.monaco }   // orders are priced on the roads
            }
        }
    }

    /// Waits until every engine's cluster bus is connected and its subscriptions exist at the server (core NATS drops
    /// a message nobody subscribes to yet, as the network would a datagram). Connected is not yet subscribed: the
    /// subscriptions go out after the connection, and on a starved machine (a sanitizer) a forwarded ping could reach
    /// the server first. A fleet query that every other shard answers shows their query subscriptions are in place,
    /// and a connection's subscriptions are processed in order, the ping subject's first.
    static func connected(_ engines: [TestEngine]) throws -> Bool {
        try eventually(within: 30) { try engines.allSatisfy { try clusterStatus($0)["connected"] as? Bool == true } }
            && eventually(within: 60) {
                try engines.allSatisfy { e in
                    let r = try e.get("/v1/drivers/nearby?lat=43.73&lng=7.42&k=1")
                    return r.status == 200 && (r.json as? [String: Any])?["partial"] == nil
                }
            }
    }

    static func ping(_ engine: TestEngine, driver: UInt64, at p: (lat: Double, lng: Double), ts: Int64) throws {
        let record = PingRecord(driverID: driver, timestampMs: ts, latE7: Int32((p.lat * 1e7).rounded()),
                                lngE7: Int32((p.lng * 1e7).rounded()), status: 1)
        try sendUDP(port: engine.udp, [PingWire.encode([record], signerID: driver, gateway: false, key: engine.keys.driverKey(driver))])
    }

    /// The driver as one engine's own table holds it (`scope=local`), or nil.
    static func held(_ engine: TestEngine, _ driver: UInt64) throws -> [String: Any]? {
        let r = try engine.get("/v1/drivers/\(driver)?scope=local")
        return r.status == 200 ? r.json as? [String: Any] : nil
    }

    static func clusterStatus(_ engine: TestEngine) throws -> [String: Any] {
        try #require(try engine.get("/v1/cluster").json as? [String: Any])
    }

    @Test("an order created at a shard that does not own its pick-up's partition is written by the owner, answered through the edge, and a retry with the same key gives the same order")
    func orderRelayedToOwner() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        let owners = [try Self.partition(Self.west): "a", try Self.partition(Self.east): "b"]
        let engines = try Self.cluster(["a", "b"], owners: owners, nats: nats, roads: true)
        defer { for e in engines { e.close() } }
        let (a, b) = (engines[0], engines[1])
        #expect(try Self.connected(engines))
        func body(from p: (lat: Double, lng: Double), to q: (lat: Double, lng: Double)) -> String {
            #"{"customer_id":"7","pickup":{"lat":\#(p.lat),"lng":\#(p.lng)},"dropoff":{"lat":\#(q.lat),"lng":\#(q.lng)}}"#
        }
        let key = [("Idempotency-Key", "relay-1")]
        let created = try OrdersFixture.request(b, "POST", "/v1/orders", body(from: Self.west, to: Self.east), headers: key)
        #expect(created.status == 201, "\(created.text)")
        let id = try OrdersFixture.id(created)
        #expect(try OrdersFixture.request(a, "GET", "/v1/orders/\(id)").status == 200)     // the owner wrote it
        #expect(try OrdersFixture.request(b, "GET", "/v1/orders/\(id)").status == 404)     // the edge's store did not
        let retried = try OrdersFixture.request(b, "POST", "/v1/orders", body(from: Self.west, to: Self.east), headers: key)
        #expect(retried.status == 201 || retried.status == 200, "\(retried.text)")
        #expect(try OrdersFixture.id(retried) == id)
        // Bad input is judged by the edge before anything is relayed.
        let bad = try OrdersFixture.request(b, "POST", "/v1/orders", #"{"customer_id":"7","pickup":{"lat":91,"lng":0}}"#)
        #expect(bad.status == 422 && bad.errorCode == "invalid_coordinate", "\(bad.text)")
        // A pick-up in the edge's own partition stays there.
        let local = try OrdersFixture.request(b, "POST", "/v1/orders", body(from: Self.east, to: Self.west))
        #expect(local.status == 201, "\(local.text)")
        #expect(try OrdersFixture.request(b, "GET", "/v1/orders/\(try OrdersFixture.id(local))").status == 200)
        #expect(try Self.clusterStatus(b)["relayed_order_writes"] as? Int == 2)
        #expect(try Self.clusterStatus(a)["order_writes_relayed_here"] as? Int == 2)
        #expect(try Self.clusterStatus(b)["relays_unanswered"] as? Int == 0)
    }

    @Test("a ping sent to a shard that does not own its partition is held by the owner only, and any shard finds it")
    func forwardedToOwner() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        let owners = [try Self.partition(Self.west): "a", try Self.partition(Self.east): "b"]
        let engines = try Self.cluster(["a", "b"], owners: owners, nats: nats)
        defer { for e in engines { e.close() } }
        let (a, b) = (engines[0], engines[1])
        #expect(try Self.connected(engines))
        let now = a.nowMs
        try Self.ping(a, driver: 41, at: Self.east, ts: now)     // b's partition, sent to a
        try Self.ping(b, driver: 42, at: Self.west, ts: now)     // a's partition, sent to b
        try Self.ping(a, driver: 43, at: Self.west, ts: now)     // a's own
        #expect(try eventually { try Self.held(b, 41) != nil && Self.held(a, 42) != nil && Self.held(a, 43) != nil })
        #expect(try Self.held(a, 41) == nil && Self.held(b, 42) == nil && Self.held(b, 43) == nil)
        // Any shard answers for the whole fleet, and names the shard holding the driver.
        for e in engines {
            let body = try #require(try e.get("/v1/drivers/41").json as? [String: Any])
            #expect(body["node"] as? String == "b")
            #expect(body["lat"] as? Double == Self.east.lat)
        }
        let forwarded = try #require(try Self.clusterStatus(a)["forwarded_records"] as? Int)
        #expect(forwarded == 1)
        #expect(try Self.clusterStatus(b)["received_taken"] as? Int == 1)
        // Each edge counted the record it checked as accepted; the owner did not count it again.
        #expect(try a.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") == 2)
        #expect(try eventually { try b.metric("hexfleet_cluster_received_records_total") == 1 })
        // The HTTP fallback ingest forwards too, and answers with the fix it sent on.
        let posted = try a.post("/v1/drivers/44/location", "{\"lat\":\(Self.east.lat),\"lng\":\(Self.east.lng),\"ts\":\(now),\"status\":\"available\"}")
        #expect(posted.status == 202)
        #expect((posted.json as? [String: Any])?["lng"] as? Double == Self.east.lng)
        #expect(try eventually { try Self.held(b, 44) != nil })
        #expect(try Self.held(a, 44) == nil)
        #expect(try a.get("/v1/drivers/99").status == 404)
        #expect(try a.get("/v1/drivers/41?scope=everywhere").errorCode == "invalid_parameter")
    }

    @Test("a driver crossing a partition border moves to the new owner with its last timestamp; older pings are replays everywhere")
    func borderCrossing() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        let owners = [try Self.partition(Self.west): "a", try Self.partition(Self.east): "b"]
        let engines = try Self.cluster(["a", "b", "c"], owners: owners, nats: nats)
        defer { for e in engines { e.close() } }
        let (a, b, c) = (engines[0], engines[1], engines[2])
        #expect(try Self.connected(engines))
        let t0 = a.nowMs - 10_000
        // Held by a (its partition), sent through the edge c.
        try Self.ping(c, driver: 7, at: Self.west, ts: t0)
        #expect(try eventually { try Self.held(a, 7) != nil })
        // It crosses into b's partition; the ping reaches yet another edge (c): b takes it, a lets it go.
        try Self.ping(c, driver: 7, at: Self.east, ts: t0 + 1_000)
        #expect(try eventually { try Self.held(b, 7) != nil && Self.held(a, 7) == nil })
        #expect(try Self.held(c, 7) == nil)
        // Replays of older pings: through the old owner, the new owner, and an edge. None is taken anywhere.
        try Self.ping(a, driver: 7, at: Self.west, ts: t0 + 500)
        try Self.ping(b, driver: 7, at: Self.east, ts: t0 + 999)
        try Self.ping(c, driver: 7, at: Self.west, ts: t0 + 1_000)
        // A fresh ping after the replays proves they were processed (messages from one edge arrive in order).
        try Self.ping(a, driver: 8, at: Self.west, ts: t0)
        #expect(try eventually { try Self.held(a, 8) != nil })
        #expect(try eventually {
            let replays = try (a.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") ?? 0)
                + (b.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") ?? 0)
                + (c.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") ?? 0)
            return replays >= 2
        })
        usleep(200_000)   // room for a wrongly taken replay to land somewhere before the check below
        let holders = try engines.filter { try Self.held($0, 7) != nil }
        #expect(holders.count == 1)
        let state = try #require(try Self.held(b, 7))
        #expect((state["ts"] as? NSNumber)?.int64Value == t0 + 1_000)
        #expect(state["lng"] as? Double == Self.east.lng)
        // It crosses back, sent to the new owner b this time: a takes it with the newer time, b lets it go.
        try Self.ping(b, driver: 7, at: Self.west, ts: t0 + 2_000)
        #expect(try eventually { try Self.held(a, 7) != nil && Self.held(b, 7) == nil })
        #expect(try (Self.held(a, 7)?["ts"] as? NSNumber)?.int64Value == t0 + 2_000)
    }

    @Test("nearby and within asked of any shard equal brute force over every driver of the cluster")
    func scatterGatherIsExact() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        // Partitions spread over a, b and c by the static directory's hash (every partition has an owner).
        let engines = try ["a", "b", "c"].map { node in
            try TestEngine { c in
                c.natsServers = nats.urls
                c.history = false
                c.cluster.node = node
                c.cluster.partitionResolution = Self.resolution
                c.cluster.staticNodes = ["a", "b", "c"]
                c.cluster.queryTimeoutMs = 2_000
            }
        }
        defer { for e in engines { e.close() } }
        #expect(try Self.connected(engines))
        var random = SeededRandom(seed: 20)
        let now = engines[0].nowMs
        var truth: [UInt64: (lat: Double, lng: Double, status: UInt8)] = [:]
        for id in UInt64(1)...300 {
            let lat = 43.724 + Double(random.next() % 30_000) / 1e6
            let lng = 7.405 + Double(random.next() % 40_000) / 1e6
            let status = UInt8(1 + random.next() % 3)
            truth[id] = (lat, lng, status)
            let record = PingRecord(driverID: id, timestampMs: now, latE7: Int32((lat * 1e7).rounded()),
                                    lngE7: Int32((lng * 1e7).rounded()), status: status)
            let edge = engines[Int(random.next() % 3)]
            try sendUDP(port: edge.udp, [PingWire.encode([record], signerID: id, gateway: false, key: edge.keys.driverKey(id))])
        }
        #expect(try eventually {
            try engines.map { (try Self.clusterStatus($0)["drivers_held"] as? Int) ?? 0 }.reduce(0, +) == truth.count
        })
        let held = try engines.map { try #require(Self.clusterStatus($0)["drivers_held"] as? Int) }
        #expect(held.allSatisfy { $0 > 0 }, "every shard holds part of the fleet: \(held)")
        for q in 0..<30 {
            let lat = 43.724 + Double(random.next() % 30_000) / 1e6
            let lng = 7.405 + Double(random.next() % 40_000) / 1e6
            let k = 1 + Int(random.next() % 25)
            let onlyAvailable = q % 3 == 0
            let centre = LatLng(degrees: lat, lng)
            var candidates: [(id: UInt64, d: Double)] = []
            for (id, fix) in truth where !onlyAvailable || fix.status == 1 {
                let latE7 = Int32((fix.lat * 1e7).rounded()), lngE7 = Int32((fix.lng * 1e7).rounded())
                let position = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
                candidates.append((id, Geodesy.distanceMeters(centre, position)))
            }
            candidates.sort { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
            let expected = Array(candidates.prefix(k))
            let engine = engines[q % 3]
            let path = "/v1/drivers/nearby?lat=\(lat)&lng=\(lng)&k=\(k)" + (onlyAvailable ? "&status=available" : "")
            let response = try engine.get(path)
            #expect(response.headers["x-hexfleet-partial"] == nil)
            let body = try #require(response.json as? [String: Any])
            let drivers = try #require(body["drivers"] as? [[String: Any]])
            let ids: [UInt64] = drivers.compactMap { ($0["id"] as? NSNumber)?.uint64Value }
            #expect(ids == expected.map { $0.id }, "query \(q)")
            for (got, want) in zip(drivers, expected) {
                #expect(abs(((got["distance_m"] as? Double) ?? -1) - want.d) < 1e-6)
            }
        }
        // A polygon covering the west half: the union of every shard's drivers inside it.
        let (minLat, maxLat, minLng, maxLng) = (43.726, 43.750, 7.405, 7.425)
        let polygon = "\(minLat),\(minLng);\(minLat),\(maxLng);\(maxLat),\(maxLng);\(maxLat),\(minLng)"
        let inside = Set(truth.filter { $0.value.lat > minLat + 1e-4 && $0.value.lat < maxLat - 1e-4
            && $0.value.lng > minLng + 1e-4 && $0.value.lng < maxLng - 1e-4 }.keys)
        let nearEdge = Set(truth.filter { !inside.contains($0.key) && $0.value.lat > minLat - 1e-4 && $0.value.lat < maxLat + 1e-4
            && $0.value.lng > minLng - 1e-4 && $0.value.lng < maxLng + 1e-4 }.keys)
        for engine in engines {
            let body = try #require(try engine.get("/v1/drivers/within?polygon=\(polygon)").json as? [String: Any])
            let ids = Set(try #require(body["drivers"] as? [[String: Any]]).compactMap { ($0["id"] as? NSNumber)?.uint64Value })
            #expect(inside.isSubset(of: ids) && ids.subtracting(inside).isSubset(of: nearEdge))
            #expect(!inside.isEmpty)
        }
    }

    @Test("a shard that does not answer in time: the query answers with what came and names it")
    func partialAnswer() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        let owners = [try Self.partition(Self.west): "a", try Self.partition(Self.east): "ghost"]
        let engines = try Self.cluster(["a"], owners: owners, nats: nats, queryTimeoutMs: 300)
        let a = engines[0]
        defer { a.close() }
        try Self.ping(a, driver: 5, at: Self.west, ts: a.nowMs)
        #expect(try eventually { try Self.held(a, 5) != nil })
        let response = try a.get("/v1/drivers/nearby?lat=\(Self.west.lat)&lng=\(Self.west.lng)&k=5")
        #expect(response.status == 200)
        #expect(response.headers["x-hexfleet-partial"] == "ghost")
        let body = try #require(response.json as? [String: Any])
        #expect(body["partial"] as? Bool == true)
        #expect(body["missing_nodes"] as? [String] == ["ghost"])
        #expect((body["drivers"] as? [[String: Any]])?.count == 1)
        let missing = try a.get("/v1/drivers/6")
        #expect(missing.status == 404 && missing.headers["x-hexfleet-partial"] == "ghost")
    }
}

/// The cluster's binary messages: every encoding decodes to what was sent, and malformed bytes decode to nil.
@Suite struct ClusterWireTests {
    @Test("queries round-trip exactly, points in radians")
    func queriesRoundTrip() throws {
        let polygon = GeoPolygon(outer: [LatLng(degrees: 43.7, 7.4), LatLng(degrees: 43.71, 7.41), LatLng(degrees: 43.72, 7.39)],
                                 holes: [[LatLng(degrees: 43.705, 7.4), LatLng(degrees: 43.706, 7.401), LatLng(degrees: 43.707, 7.399)]])
        let queries: [FleetQuery] = [
            .nearby(LatLng(degrees: 43.731_234_567_8, 7.421_987_654_3), k: 17, radiusMeters: .infinity, .available),
            .nearby(LatLng(degrees: -33.9, 151.2), k: 1, radiusMeters: 250.5, .all),
            .cells([try H3.latLngToCell(LatLng(degrees: 43.73, 7.42), resolution: 9)], StatusFilter(.onTrip)),
            .polygon(polygon, .all),
            .driver(DriverID(UInt64.max)),
        ]
        for q in queries {
            #expect(ClusterWire.query(ClusterWire.encode(q)) == q)
        }
    }

    @Test("answers and claims round-trip; truncated, padded or foreign messages are refused")
    func answersAndMalformed() throws {
        let answer: FleetAnswer = [
            FleetAnswerDriver(state: DriverState(id: DriverID(3), latE7: 437_300_000, lngE7: 74_200_000, timestampMs: 1_700_000_000_123,
                                                 speedCmPerSecond: 120, headingCentidegrees: 9_000, accuracyDecimetres: 50, status: .onTrip),
                              distanceMeters: 12.345_678_901),
            FleetAnswerDriver(state: DriverState(id: DriverID(9), latE7: -1, lngE7: 1, timestampMs: 5, status: .available), distanceMeters: 0),
        ]
        let bytes = ClusterWire.encode(answer)
        #expect(ClusterWire.answer(bytes) == answer)
        #expect(ClusterWire.answer(Array(bytes.dropLast())) == nil)
        #expect(ClusterWire.answer(bytes + [0]) == nil)
        #expect(ClusterWire.answer([]) == nil)
        // A distance that is no length (found by the `cluster` fuzz target: a NaN made the answer unequal to itself).
        for bad in [Double.nan, -Double.nan, .infinity, -.infinity, -1, -Double.leastNonzeroMagnitude] {
            var wrong = answer
            wrong[1].distanceMeters = bad
            #expect(ClusterWire.answer(ClusterWire.encode(wrong)) == nil, "distance \(bad)")
        }
        let claims = [ClusterWire.Claim(driver: DriverID(1), timestampMs: 10), ClusterWire.Claim(driver: DriverID(2), timestampMs: -1)]
        let message = ClusterWire.claims(claims, from: "node-b")
        #expect(ClusterWire.claims(message)?.node == "node-b")
        #expect(ClusterWire.claims(message)?.claims == claims)
        #expect(ClusterWire.claims(Array(message.dropLast())) == nil)
        #expect(ClusterWire.query(Array(ClusterWire.encode(FleetQuery.driver(DriverID(1))).dropLast())) == nil)
        #expect(ClusterWire.query([ClusterWire.nearbyKind, 0, 0, 0, 0, 0, 0, 0]) == nil)
        var records: [UInt8] = []
        ClusterWire.beginRecords(&records, transport: .ws)
        ClusterWire.appendRecord(PingRecord(driverID: 4, timestampMs: 1, latE7: 2, lngE7: 3, status: 1), to: &records)
        ClusterWire.finishRecords(&records)
        records.withUnsafeBytes { raw in
            let decoded = ClusterWire.records(raw)
            #expect(decoded?.transport == .ws && decoded?.records.count == PingWire.recordBytes)
        }
        (records + [1]).withUnsafeBytes { #expect(ClusterWire.records($0) == nil) }
        #expect(!ClusterWire.isValidNodeName("a.b") && !ClusterWire.isValidNodeName("") && ClusterWire.isValidNodeName("shard-7_x"))
    }

    @Test("merging shards' answers: nearest-k by distance then id, cut at k; a driver reported twice keeps its newest fix")
    func merge() {
        func d(_ id: UInt64, _ dist: Double?, ts: Int64 = 1) -> FleetAnswerDriver {
            FleetAnswerDriver(state: DriverState(id: DriverID(id), latE7: 0, lngE7: 0, timestampMs: ts, status: .available), distanceMeters: dist)
        }
        let nearby = FleetQuery.nearby(LatLng(degrees: 0, 0), k: 3, radiusMeters: .infinity, .all)
        let merged = nearby.merge([[d(5, 1), d(2, 4)], [d(4, 1), d(1, 9)], [d(3, 2)]])
        #expect(merged.map(\.state.id.rawValue) == [4, 5, 3])
        let twice = FleetQuery.driver(DriverID(8)).merge([[d(8, nil, ts: 10)], [d(8, nil, ts: 20)]])
        #expect(twice.count == 1 && twice.first?.state.timestampMs == 20)
        let within = FleetQuery.cells([], .all).merge([[d(9, nil), d(2, nil)], [d(5, nil)]])
        #expect(within.map(\.state.id.rawValue) == [2, 5, 9])
    }

    @Test("the static directory: explicit owners win, other partitions spread over the nodes or have no owner")
    func staticDirectory() throws {
        let p = try H3.latLngToCell(LatLng(degrees: 43.73, 7.42), resolution: 5)
        let child = try H3.latLngToCell(LatLng(degrees: 43.73, 7.42), resolution: 9)
        let directory = StaticPartitionDirectory(node: "a", resolution: 5, owners: [p: "b"])
        #expect(directory.partition(of: child) == p)
        #expect(directory.owner(of: p) == "b" && !directory.ownsPartition(of: child))
        #expect(directory.owner(of: try H3.latLngToCell(LatLng(degrees: 60.17, 24.94), resolution: 5)) == nil)
        #expect(directory.liveNodes == ["a", "b"])
        let spread = StaticPartitionDirectory(node: "a", resolution: 5, spreadNodes: ["c", "a", "b"])
        var seen = Set<String>()
        for lat in stride(from: 40.0, to: 50.0, by: 0.5) {
            seen.insert(spread.owner(of: try H3.latLngToCell(LatLng(degrees: lat, 7.42), resolution: 5)) ?? "-")
        }
        #expect(seen == ["a", "b", "c"])
    }
}

@testable import Engine
import FleetIndex
import Foundation
import HexGeo
import Testing
import TestSupport
import Vocabulary

/// `/v1/ws/track` in a cluster: a subscriber on any shard sees the drivers every shard holds (docs/cluster.md,
/// "Tracking across shards"). Two real engines on loopback and a real nats-server, as `ClusterShardTests`.
@Suite(.serialized) struct ClusterTrackingTests {
    /// A viewport over all of Monaco (both test partitions).
    static let monaco = "[43.70,7.38,43.77,7.46]"

    /// Positions messages read until `done` says enough (each message's drivers, in order), or the read times out.
    static func positions(_ ws: TrackingTestClient, until done: ([[[String: Any]]]) -> Bool) throws -> [[[String: Any]]] {
        var messages: [[[String: Any]]] = []
        while !done(messages) {
            let m = try ws.readJSON(type: "positions")
            messages.append(m["drivers"] as? [[String: Any]] ?? [])
        }
        return messages
    }

    static func id(_ d: [String: Any]) -> UInt64 { (d["id"] as? NSNumber)?.uint64Value ?? 0 }
    static func ts(_ d: [String: Any]) -> Int64 { (d["ts"] as? NSNumber)?.int64Value ?? 0 }

    /// The newest fix per driver over `messages`.
    static func newest(_ messages: [[[String: Any]]]) -> [UInt64: [String: Any]] {
        var out: [UInt64: [String: Any]] = [:]
        for m in messages { for d in m where ts(d) >= out[id(d)].map(ts) ?? Int64.min { out[id(d)] = d } }
        return out
    }

    @Test("a bbox subscriber on one shard receives the drivers the other shard holds (moving or not), each once per message, with its newest fix; a later subscriber's snapshot has them too")
    func subscriberSeesTheWholeFleet() throws {
        let nats = try NatsServers()
        defer { nats.stop() }
        let owners = [try ClusterShardTests.partition(ClusterShardTests.west): "a",
                      try ClusterShardTests.partition(ClusterShardTests.east): "b"]
        let engines = try ClusterShardTests.cluster(["a", "b"], owners: owners, nats: nats)
        defer { for e in engines { e.close() } }
        let (a, b) = (engines[0], engines[1])
        #expect(try ClusterShardTests.connected(engines))
        // Driver 21 reaches b before anyone watches, and never moves again: b sends it when a starts watching.
        let t0 = a.nowMs - 5_000
        try ClusterShardTests.ping(b, driver: 21, at: ClusterShardTests.east, ts: t0 - 1_000)
        #expect(try eventually { try ClusterShardTests.held(b, 21) != nil })

        let ws = try TrackingTestClient(port: a.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 10)
        try ws.send(text: #"{"op":"subscribe","bbox":\#(Self.monaco)}"#)
        _ = try ws.readJSON(type: "subscribed")
        // b publishes its moved drivers once it heard that a watches.
        #expect(try eventually(within: 10) { try ClusterShardTests.clusterStatus(b)["track_watched"] as? Bool == true })

        // Drivers 1…5 in a's partition, 11…15 in b's; each sent through the other shard, so every one is forwarded.
        for i in UInt64(0)..<5 {
            let dLat = Double(i) * 0.0005
            try ClusterShardTests.ping(b, driver: 1 + i, at: (ClusterShardTests.west.lat + dLat, ClusterShardTests.west.lng), ts: t0)
            try ClusterShardTests.ping(a, driver: 11 + i, at: (ClusterShardTests.east.lat + dLat, ClusterShardTests.east.lng), ts: t0)
        }
        #expect(try eventually { try (11...15).allSatisfy { try ClusterShardTests.held(b, UInt64($0)) != nil } })
        #expect(try (11...15).allSatisfy { try ClusterShardTests.held(a, UInt64($0)) == nil })
        let all = Set(UInt64(1)...5).union(11...15).union([21])
        var messages = try Self.positions(ws) { Set(Self.newest($0).keys).isSuperset(of: all) }
        for m in messages { #expect(Set(m.map(Self.id)).count == m.count, "a driver twice in one message: \(m.map(Self.id))") }
        #expect(Set(Self.newest(messages).keys) == all)

        // b's driver 11 moves twice; a's subscriber ends with the newer fix, and no message carries an older one after it.
        let moved = (lat: ClusterShardTests.east.lat + 0.001, lng: ClusterShardTests.east.lng)
        try ClusterShardTests.ping(b, driver: 11, at: moved, ts: t0 + 1_000)
        try ClusterShardTests.ping(b, driver: 11, at: moved, ts: t0 + 2_000)
        messages = try Self.positions(ws) { Self.newest($0)[11].map(Self.ts) == t0 + 2_000 }
        let latest = try #require(Self.newest(messages)[11])
        #expect(latest["lat"] as? Double == moved.lat)
        let afterNewest = messages.drop { !$0.contains { Self.id($0) == 11 && Self.ts($0) == t0 + 2_000 } }.dropFirst()
        #expect(afterNewest.allSatisfy { $0.allSatisfy { Self.id($0) != 11 || Self.ts($0) == t0 + 2_000 } })
        for m in messages { #expect(Set(m.map(Self.id)).count == m.count) }

        // A new subscriber on a gets every driver in its snapshot: a's own from its table, b's from what b published.
        let late = try TrackingTestClient(port: a.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 10)
        try late.send(text: #"{"op":"subscribe","bbox":\#(Self.monaco)}"#)
        _ = try late.readJSON(type: "subscribed")
        let snapshot = try Self.positions(late) { Set(Self.newest($0).keys).isSuperset(of: all) }
        #expect(Self.newest(snapshot)[11].map(Self.ts) == t0 + 2_000)
        // The binary format carries them the same way (32-byte records after an 8-byte header).
        let binary = try TrackingTestClient(port: a.http, path: "/v1/ws/track?format=binary&token=\(TestEngine.admin)",
                                            timeoutSeconds: 10)
        try binary.send(text: #"{"op":"subscribe","bbox":\#(Self.monaco)}"#)
        var binarySeen = Set<UInt64>()
        while !binarySeen.isSuperset(of: all) {
            guard case .binary(let bytes) = try binary.readFrame() else { continue }
            try #require(bytes.count >= 8 && (bytes.count - 8) % 32 == 0)
            let ids = bytes.withUnsafeBytes { raw in (0..<(bytes.count - 8) / 32).map { PingWire.record(at: 8 + 32 * $0, in: raw).driverID } }
            #expect(Set(ids).count == ids.count)
            binarySeen.formUnion(ids)
        }
        // A driver subscription to one of b's drivers is answered from there too.
        let follower = try TrackingTestClient(port: a.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 10)
        try follower.send(text: #"{"op":"subscribe","driver":12}"#)
        _ = try follower.readJSON(type: "subscribed")
        let followed = try Self.positions(follower) { Self.newest($0)[12] != nil }
        #expect(followed.flatMap { $0 }.allSatisfy { Self.id($0) == 12 })

        // The driver crosses into a's partition: a takes it locally, and its subscriber gets the local fix.
        try ClusterShardTests.ping(a, driver: 13, at: ClusterShardTests.west, ts: t0 + 3_000)
        messages = try Self.positions(ws) { Self.newest($0)[13].map(Self.ts) == t0 + 3_000 }
        #expect(try eventually { try ClusterShardTests.held(a, 13) != nil && ClusterShardTests.held(b, 13) == nil })
        #expect(try ClusterShardTests.clusterStatus(a)["track_received"] as? Int ?? 0 >= 5)
        #expect(try ClusterShardTests.clusterStatus(b)["track_published"] as? Int ?? 0 >= 5)
    }

    @Test("positions and watching messages decode to what was encoded; malformed ones are refused")
    func wire() throws {
        var buffer: [UInt8] = []
        ClusterWire.beginPositions(&buffer, from: "node-b")
        let states = [DriverState(id: DriverID(7), latE7: 437_300_000, lngE7: 74_200_000, timestampMs: 1_700_000_000_000,
                                  speedCmPerSecond: 830, headingCentidegrees: 9_000, accuracyDecimetres: 50, status: .toPickup),
                      DriverState(id: DriverID(8), latE7: -337_000_000, lngE7: -1_799_000_000, timestampMs: 1, status: .offline)]
        for s in states { ClusterWire.appendPosition(s, to: &buffer) }
        ClusterWire.finishPositions(&buffer)
        #expect(buffer.count == 8 + 6 + 2 * 32)
        let decoded = try #require(ClusterWire.positions(buffer))
        #expect(decoded.node == "node-b" && decoded.states == states)
        #expect(ClusterWire.positions(Array(buffer.dropLast())) == nil)
        var badStatus = buffer
        badStatus[8 + 6 + 30] = 200   // the first record's status byte
        #expect(ClusterWire.positions(badStatus) == nil)
        var offGlobe = buffer
        offGlobe.withUnsafeMutableBytes { $0.storeBytes(of: Int32(950_000_000).littleEndian, toByteOffset: 8 + 6 + 16, as: Int32.self) }
        #expect(ClusterWire.positions(offGlobe) == nil)
        #expect(ClusterWire.watching(ClusterWire.watching(from: "a")) == "a")
        #expect(ClusterWire.watching(buffer) == nil)
        #expect(ClusterWire.watching([4, 5, 0, 0, 0, 0, 0, 0, 97]) == nil)
        #expect(ClusterWire.positions([]) == nil && ClusterWire.watching([]) == nil)
    }
}

/// The same on shards whose partitions are leased in PostgreSQL (`ShardFailoverTests`' set-up): who holds which
/// driver is decided by the leases, and the live map of either shard shows both shards' drivers.
@Suite(.serialized, .enabled(if: ShardDatabase.server != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct LeasedClusterTrackingTests {
    @Test("two leased shards: each shard's bbox subscriber sees the drivers of both")
    func bothShardsSeeEveryDriver() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let nats = try NatsServers()
        defer { nats.stop() }
        func shard(_ node: String) throws -> TestEngine {
            try TestEngine { c in
                c.natsServers = nats.urls
                c.history = false
                c.postgresURL = db.url
                c.cluster.node = node
                c.cluster.partitionResolution = ClusterShardTests.resolution
            }
        }
        let west = ClusterShardTests.west, east = ClusterShardTests.east
        // a alone sees the west partition first and claims it; then b, alone in seeing the east one, claims that.
        let a = try shard("a")
        defer { a.close() }
        let t0 = a.nowMs - 10_000
        try ClusterShardTests.ping(a, driver: 1, at: west, ts: t0)
        #expect(try eventually(within: 20) { try a.metric("hexfleet_cluster_partitions_held") == 1 })
        let b = try shard("b")
        defer { b.close() }
        #expect(try ClusterShardTests.connected([a, b]))
        try ClusterShardTests.ping(b, driver: 2, at: east, ts: t0)
        #expect(try eventually(within: 20) { try b.metric("hexfleet_cluster_partitions_held") == 1 })
        #expect(try eventually { try ClusterShardTests.held(a, 1) != nil && ClusterShardTests.held(b, 2) != nil })

        let onA = try TrackingTestClient(port: a.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 10)
        let onB = try TrackingTestClient(port: b.http, path: "/v1/ws/track?token=\(TestEngine.admin)", timeoutSeconds: 10)
        for ws in [onA, onB] {
            try ws.send(text: #"{"op":"subscribe","bbox":\#(ClusterTrackingTests.monaco)}"#)
            _ = try ws.readJSON(type: "subscribed")
        }
        // Fixes sent through the shard that does not own them: forwarded, then published by the owner.
        for i in UInt64(0)..<4 {
            try ClusterShardTests.ping(b, driver: 10 + i, at: (west.lat + Double(i) * 0.0005, west.lng), ts: t0 + 1_000)
            try ClusterShardTests.ping(a, driver: 20 + i, at: (east.lat + Double(i) * 0.0005, east.lng), ts: t0 + 1_000)
        }
        let all = Set<UInt64>([1, 2, 10, 11, 12, 13, 20, 21, 22, 23])
        for ws in [onA, onB] {
            let messages = try ClusterTrackingTests.positions(ws) { Set(ClusterTrackingTests.newest($0).keys).isSuperset(of: all) }
            for m in messages { #expect(Set(m.map(ClusterTrackingTests.id)).count == m.count) }
        }
        // Whichever shard took each (a shard's view of the other's lease may lag a round), exactly one holds it.
        #expect(try all.allSatisfy { id in try [a, b].filter { try ClusterShardTests.held($0, id) != nil }.count == 1 })
    }
}

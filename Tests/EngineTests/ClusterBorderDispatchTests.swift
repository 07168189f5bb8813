@testable import Engine
import Foundation
import HexGeo
@testable import Storage
import Testing
import TestSupport
import Vocabulary

private typealias F = OrdersFixture

/// Dispatch across partition borders (docs/cluster.md): two shards on one real PostgreSQL and a real nats-server; a
/// courier held by `b` just across the border of `a`'s partition is offered `a`'s orders, the offer reaches its
/// WebSocket on `b`, and the courier's slots in PostgreSQL keep it within capacity when shards race.
@Suite(.serialized, .enabled(if: ShardDatabase.server != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct ClusterBorderDispatchTests {
    typealias Point = (lat: Double, lng: Double)

    private func shard(_ node: String, dir: String, url: String, nats: [String], resolution: Int,
                       stacking: Bool = true) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.natsServers = nats
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.dispatchStacking = stacking
            $0.trackTickMs = 20
            $0.postgresURL = url
            $0.cluster.node = node
            $0.cluster.partitionResolution = resolution
        })
        F.noteGraphCache(in: dir)
        return engine
    }

    /// `p` moved `meters` east.
    static func east(_ p: Point, _ meters: Double) -> Point {
        (p.lat, p.lng + meters / (111_320 * cos(p.lat * .pi / 180)))
    }

    /// The partition a driver at `p` falls in (the parent of its live-index cell) and an order picked up there
    /// (the pick-up's cell at the partition resolution); the tests place points where both agree.
    static func partitions(_ p: Point, resolution: Int) throws -> (driver: H3Cell, order: H3Cell) {
        let point = LatLng(degrees: p.lat, p.lng)
        let cell = try H3.latLngToCell(point, resolution: 9)
        return (try H3.cellToParent(cell, resolution: resolution), try H3.latLngToCell(point, resolution: resolution))
    }

    /// A pick-up 300 m west of the first resolution-7 border east of the fixture's pick-up, and a courier spot 300 m
    /// east of it, in the neighbouring partition.
    static func borderPoints() throws -> (pickup: Point, courier: Point, pickupPartition: H3Cell, courierPartition: H3Cell) {
        let start: Point = F.pickup
        let home = try partitions(start, resolution: 7).driver
        var x = 0.0
        while try partitions(east(start, x), resolution: 7).driver == home { x += 10; try #require(x < 5_000) }
        let pickup = east(start, x - 300), courier = east(start, x + 300)
        let p = try partitions(pickup, resolution: 7), c = try partitions(courier, resolution: 7)
        try #require(p.driver == p.order && c.driver == c.order && p.driver == home && c.driver != home)
        return (pickup, courier, p.driver, c.driver)
    }

    static func orderBody(_ customer: String, pickup: Point) -> String {
        #"{"customer_id":"\#(customer)","pickup":{"lat":\#(pickup.lat),"lng":\#(pickup.lng)},"dropoff":{"lat":\#(F.dropoff.lat),"lng":\#(F.dropoff.lng)}}"#
    }

    static func ping(_ engine: TestEngine, _ driver: Int, at p: Point) throws {
        let body = #"{"lat":\#(p.lat),"lng":\#(p.lng),"ts":\#(engine.nowMs),"status":"available"}"#
        let r = try engine.post("/v1/drivers/\(driver)/location", body)
        #expect(r.status == 202, "\(r.text)")
    }

    /// Creates an order at `engine`, retrying while its partition has no owner yet (the write then asks for it).
    static func create(_ engine: TestEngine, _ customer: String, pickup: Point) throws -> UInt64 {
        var id: UInt64?
        _ = try eventually(within: 20) {
            let r = try F.request(engine, "POST", "/v1/orders", orderBody(customer, pickup: pickup))
            if r.status == 201 { id = try F.id(r) }
            return id != nil
        }
        return try #require(id)
    }

    static func connected(_ engines: [TestEngine]) throws -> Bool {
        try eventually(within: 20) {
            try engines.allSatisfy { e in
                let view = try #require(try e.get("/v1/cluster").json as? [String: Any])
                return view["connected"] as? Bool == true && (view["live_nodes"] as? [String])?.count == engines.count
            }
        }
    }

    static func border(_ engine: TestEngine) throws -> [String: Int] {
        let stats = try F.object(try F.request(engine, "GET", "/v1/dispatch/stats"))
        return (stats["border"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    static func owner(_ db: ShardDatabase, _ partition: H3Cell) throws -> String? {
        try db.query("SELECT owner FROM partition_leases WHERE partition = \(Int64(bitPattern: partition.rawValue)) AND expires_at > now()")
            .first?.first ?? nil
    }

    @Test("a shard dispatches an order picked up near its border to a courier another shard holds across it; the offer reaches the courier's WebSocket on that shard, and the courier accepts through it")
    func remoteCourierAcrossTheBorder() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let nats = try NatsServers()
        defer { nats.stop() }
        let dirA = try F.dataDirectory(), dirB = try F.dataDirectory()
        defer { F.remove(dirA); F.remove(dirB) }
        let spots = try Self.borderPoints()
        let a = try shard("a", dir: dirA, url: db.url, nats: nats.urls, resolution: 7)
        defer { a.close() }
        let order = try Self.create(a, "c1", pickup: spots.pickup)   // a claims the pick-up's partition
        #expect(try Self.owner(db, spots.pickupPartition) == "a")
        let b = try shard("b", dir: dirB, url: db.url, nats: nats.urls, resolution: 7)
        defer { b.close() }
        #expect(try Self.connected([a, b]))

        // The courier's app holds its WebSocket on b and pings b from across the border: b holds it.
        let token = try F.token(b, "driver", "71")
        let channel = try TrackingTestClient(port: b.http, path: "/v1/ws/driver?token=\(token)")
        #expect(channel.status == 101)
        try Self.ping(b, 71, at: spots.courier)
        #expect(try eventually(within: 20) { try Self.owner(db, spots.courierPartition) == "b" })
        #expect(try b.get("/v1/drivers/71?scope=local").status == 200)
        #expect(try a.get("/v1/drivers/71?scope=local").status == 404, "a never holds the courier")

        // a's round gathers b's courier near the border and offers it the order; b pushes the offer.
        let offer = try channel.readJSON(type: "offer")
        #expect((offer["order"] as? NSNumber)?.uint64Value == order, "\(offer)")
        #expect(try eventually { try F.status(a, order) == "dispatched" })
        let stats = try Self.border(a)
        #expect((stats["remote_offers"] ?? 0) >= 1 && (stats["queries"] ?? 0) >= 1, "\(stats)")
        let cluster = try F.object(try F.request(b, "GET", "/v1/cluster"))
        #expect(((cluster["driver_pushes_delivered"] as? NSNumber)?.intValue ?? 0) >= 1, "\(cluster)")

        // The courier accepts on its channel at b (relayed to a, which holds the offer); the order is accepted.
        try channel.send(text: #"{"op":"accept","order":\#(order)}"#)
        // The reply to the answer, and a's order update for the courier, both reach the channel at b.
        var sawReply = false, sawAccepted = false
        for _ in 0..<20 where !(sawReply && sawAccepted) {
            let m = try channel.readJSON()
            if m["type"] as? String == "offer_accepted" { sawReply = (m["order"] as? NSNumber)?.uint64Value == order }
            if m["type"] as? String == "order", (m["order"] as? [String: Any])?["status"] as? String == "accepted" { sawAccepted = true }
        }
        #expect(sawReply && sawAccepted)
        #expect(try eventually { try F.status(a, order) == "accepted" })
        // An answer on the channel for an order no shard holds is refused on the channel, as on one engine.
        try channel.send(text: #"{"op":"decline","order":987654}"#)
        #expect((try channel.readJSON(type: "error"))["code"] as? String == "offer_not_found")
        #expect(try db.query("SELECT courier_id FROM courier_slots WHERE order_id = \(order)") == [["71"]])
    }

    @Test("a courier's last slot raced by two shards: the dispatch PostgreSQL refuses goes back to the queue and is offered once the slot is free; two shards' orders near one courier never put it over capacity")
    func raceForTheLastSlot() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let nats = try NatsServers()
        defer { nats.stop() }
        let dirA = try F.dataDirectory(), dirB = try F.dataDirectory()
        defer { F.remove(dirA); F.remove(dirB) }
        let spots = try Self.borderPoints()
        // Capacity 1 (no stacking): one slot per courier.
        let a = try shard("a", dir: dirA, url: db.url, nats: nats.urls, resolution: 7, stacking: false)
        defer { a.close() }
        // An order cancelled before any courier pings, whose id stands in for another shard's dispatch in flight.
        let elsewhere = try Self.create(a, "c0", pickup: spots.pickup)
        #expect(try F.request(a, "POST", "/v1/orders/\(elsewhere)/cancel", "{}").status == 200)
        let b = try shard("b", dir: dirB, url: db.url, nats: nats.urls, resolution: 7, stacking: false)
        defer { b.close() }
        #expect(try Self.connected([a, b]))
        try Self.ping(b, 73, at: spots.courier)
        #expect(try eventually(within: 20) { try Self.owner(db, spots.courierPartition) == "b" })

        // Another shard's dispatch to courier 73 is in flight (its slot inserted, not committed) when a dispatches:
        // a's read of the slots does not see it, a offers, and a's write waits on the slot's key.
        let rival = try PGConnection(url: db.url)
        try rival.execute("BEGIN")
        try rival.execute("INSERT INTO courier_slots (courier_id, slot, order_id) VALUES (73, 1, \(elsewhere))")
        let order = try Self.create(a, "c1", pickup: spots.pickup)
        #expect(try eventually(within: 20) {
            try db.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") != [["0"]]
        }, "a's dispatch write waits on the rival's slot")
        try rival.execute("COMMIT")
        // Refused (courier_at_capacity): the order is quoted again, and the next rounds read the slot and leave the
        // courier alone.
        #expect(try eventually { try F.status(a, order) == "quoted" })
        let dispatchedTo73 = "SELECT count(*) FROM orders WHERE courier_id = 73 AND status IN ('dispatched', 'accepted', 'picked_up')"
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.2)
            #expect(try db.query("SELECT count(*) FROM courier_slots WHERE courier_id = 73") == [["1"]])
            #expect(try F.status(a, order) == "quoted", "a leaves the courier alone while its slot is taken")
        }
        #expect(try db.query(dispatchedTo73) == [["0"]])
        // The slot frees (the rival's order went elsewhere): the queued order is offered in a next round.
        try rival.execute("DELETE FROM courier_slots WHERE order_id = \(elsewhere)")
        #expect(try eventually(within: 10) { try F.status(a, order) == "dispatched" })
        #expect(try db.query("SELECT order_id FROM courier_slots WHERE courier_id = 73") == [["\(order)"]])

        // Two shards' orders either side of the border, one free courier between them: one order gets it.
        let own = try Self.create(b, "c2", pickup: Self.east(spots.courier, 50))
        let theirs = try Self.create(a, "c3", pickup: spots.pickup)
        try Self.ping(b, 74, at: spots.courier)
        let held74 = "SELECT count(*) FROM courier_slots WHERE courier_id = 74"
        var sawOne = false
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.1)
            let held = try db.query(held74)
            #expect(held == [["0"]] || held == [["1"]], "\(held)")
            sawOne = sawOne || held == [["1"]]
        }
        let settled = try sawOne || eventually { try db.query(held74) == [["1"]] }
        #expect(settled)
        let statuses = [try F.status(b, own), try F.status(a, theirs)]
        #expect(statuses.filter { $0 == "dispatched" }.count == 1 && statuses.contains("quoted"), "\(statuses)")
        #expect(try db.query("SELECT count(*) FROM orders WHERE courier_id = 74 AND status IN ('dispatched', 'accepted', 'picked_up')") == [["1"]])
    }

    @Test("with no partition but its own within an order's reach, a shard asks no other shard for couriers")
    func noBorderNoQueries() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let nats = try NatsServers()
        defer { nats.stop() }
        let dirA = try F.dataDirectory(), dirB = try F.dataDirectory()
        defer { F.remove(dirA); F.remove(dirB) }
        // At resolution 3 Monaco and everything within the search radius is one partition.
        let a = try shard("a", dir: dirA, url: db.url, nats: nats.urls, resolution: 3)
        defer { a.close() }
        let b = try shard("b", dir: dirB, url: db.url, nats: nats.urls, resolution: 3)
        defer { b.close() }
        #expect(try Self.connected([a, b]))
        let order = try Self.create(a, "c1", pickup: F.pickup)
        #expect(try eventually { try F.status(a, order) == "quoted" })
        let rounds = { try (F.object(try F.request(a, "GET", "/v1/dispatch/stats"))["rounds"] as? NSNumber)?.intValue ?? 0 }
        let before = try rounds()
        #expect(try eventually { try rounds() >= before + 5 }, "a keeps running rounds for the waiting order")
        let stats = try Self.border(a)
        #expect(stats["orders"] == 0 && stats["queries"] == 0, "\(stats)")
    }
}

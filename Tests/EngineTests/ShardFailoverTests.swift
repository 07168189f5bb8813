@testable import Engine
import Foundation
@testable import Storage
import Testing
import TestSupport

private typealias F = OrdersFixture

/// A database of its own on the test PostgreSQL server (`HEXFLEET_TEST_POSTGRES`), dropped by `drop()`.
struct ShardDatabase {
    static let server: String? = ProcessInfo.processInfo.environment["HEXFLEET_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    let url: String
    private let name: String

    init() throws {
        let server = try #require(Self.server)
        name = "hf_shard_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try PGConnection(url: server).execute("CREATE DATABASE \(name)")
        // The server URL's database (its path) replaced, any query kept.
        let query = server.firstIndex(of: "?").map { String(server[$0...]) } ?? ""
        let base = server.dropLast(query.count)
        let slash = try #require(base.lastIndex(of: "/"))
        url = String(base[..<slash]) + "/" + name + query
    }

    func query(_ sql: String) throws -> [[String?]] { try PGConnection(url: url).query(sql).cells }

    func drop() {
        guard let server = Self.server else { return }
        try? PGConnection(url: server).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// Two shards (`--node a`, `--node b`) on one real PostgreSQL, each a whole engine on loopback (docs/cluster.md).
@Suite(.serialized, .enabled(if: ShardDatabase.server != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct ShardFailoverTests {
    private func shard(_ node: String, dir: String, url: String, nats: [String] = []) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.natsServers = nats
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
            $0.postgresURL = url
            $0.cluster.node = node
        })
        F.noteGraphCache(in: dir)
        return engine
    }

    @Test("the first shard to see an order's partition owns it and the other refuses with partition_moved; when the owner stops, the survivor claims the partition with a new epoch, reloads the order and dispatches it")
    func failover() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let dirA = try F.dataDirectory(), dirB = try F.dataDirectory()
        defer { F.remove(dirA); F.remove(dirB) }
        let a = try shard("a", dir: dirA, url: db.url)
        var aRunning = true
        defer { if aRunning { a.close() } }

        // Nobody holds the pick-up's partition yet: the write is refused until a's next round claims it.
        var id: UInt64?
        var refusals: [String] = []
        let created = try eventually(within: 20) {
            let r = try F.request(a, "POST", "/v1/orders", F.orderBody(customer: "c1"))
            if r.status == 201 { id = try F.id(r); return true }
            refusals.append("\(r.status) \(r.errorCode ?? r.text)")
            return false
        }
        #expect(created)
        #expect(!refusals.isEmpty && refusals.allSatisfy { $0 == "409 partition_moved" }, "\(refusals)")
        let order = try #require(id)

        let b = try shard("b", dir: dirB, url: db.url)
        defer { b.close() }
        let refused = try F.request(b, "POST", "/v1/orders", F.orderBody(customer: "c2"))
        #expect(refused.status == 409 && refused.errorCode == "partition_moved", "\(refused.text)")
        #expect(try F.status(b, order) == "quoted", "order reads answer on any shard")
        // A courier near the pick-up pings b; a has none, so the order waits.
        let ping = #"{"lat":\#(F.pickup.lat + 0.0005),"lng":\#(F.pickup.lng + 0.0005),"ts":\#(b.nowMs),"status":"available"}"#
        #expect(try b.post("/v1/drivers/61/location", ping).status == 202)
        #expect(try F.status(b, order) == "quoted")

        a.close()
        aRunning = false
        #expect(try eventually(within: 20) { try F.status(b, order) == "dispatched" })
        #expect((try F.object(try F.request(b, "GET", "/v1/orders/\(order)"))["courier_id"] as? NSNumber)?.intValue == 61)
        let lease = try db.query("SELECT owner, epoch FROM partition_leases")
        #expect(lease.count == 1 && lease.first?[0] == "b" && lease.first?[1] == "2", "\(lease)")
        #expect(try F.request(b, "POST", "/v1/orders", F.orderBody(customer: "c3")).status == 201)

        #expect(try eventually { try b.metric("hexfleet_live_orders") == 2 })
        #expect(try b.metric("hexfleet_cluster_partitions_held") == 1)
        #expect(try b.metric("hexfleet_cluster_orders_adopted_total") == 1)

        // b stops renewing in time (as if paused) and another node takes the partition: b's next round sees the
        // lease lost, drops the partition's orders (the courier's accept finds no offer) and writes nothing more.
        _ = try db.query("UPDATE partition_leases SET expires_at = now() - interval '1 second'")
        let thief = try PartitionLeaseStore(url: db.url)
        let partition = try #require(try db.query("SELECT partition FROM partition_leases").first?[0].flatMap(Int64.init))
        #expect(try thief.claim(partition, node: "z", ttlMs: 60_000) == 3)
        #expect(try F.request(b, "POST", "/v1/orders", F.orderBody(customer: "c4")).errorCode == "partition_moved",
                "the fence reads the lease row itself: refused before b's round notices")
        #expect(try eventually(within: 20) { try b.metric("hexfleet_live_orders") == 0 }, "b dropped the lost partition's orders")
        #expect(try eventually { try b.metric("hexfleet_cluster_partitions_held") == 0 })
        #expect(try b.metric("hexfleet_cluster_orders_dropped_total") == 2)
        #expect(try b.metric("hexfleet_cluster_partitions_lost_total") == 1)
        let d61 = try F.token(b, "driver", "61")
        #expect(try b.post("/v1/orders/\(order)/accept", "{}", token: d61).status != 200)
        #expect(try F.status(b, order) == "dispatched", "nothing written by the old owner")
    }

    @Test("with the cluster bus, a transition or a courier's answer to an offer asked of a shard that does not hold the order is relayed to the shard owning its pick-up's partition and answered with its answer")
    func orderActionsRelayedToOwner() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let nats = try NatsServers()
        defer { nats.stop() }
        let dirA = try F.dataDirectory(), dirB = try F.dataDirectory()
        defer { F.remove(dirA); F.remove(dirB) }
        let a = try shard("a", dir: dirA, url: db.url, nats: nats.urls)
        defer { a.close() }
        func create(_ customer: String) throws -> UInt64? {
            var id: UInt64?
            _ = try eventually(within: 20) {
                let r = try F.request(a, "POST", "/v1/orders", F.orderBody(customer: customer))
                if r.status == 201 { id = try F.id(r) }
                return id != nil
            }
            return id
        }
        let kept = try #require(try create("c1"))   // a claims the pick-up's partition on its first refused write
        let b = try shard("b", dir: dirB, url: db.url, nats: nats.urls)
        defer { b.close() }
        #expect(try eventually(within: 20) {
            try [a, b].allSatisfy { e in
                let view = try #require(try e.get("/v1/cluster").json as? [String: Any])
                return view["connected"] as? Bool == true && (view["live_nodes"] as? [String])?.count == 2
            }
        })
        let cancelled = try #require(try create("c2"))

        // b holds neither order: its own write would be refused (partition_moved); relayed, the owner writes it.
        let cancel = try F.request(b, "POST", "/v1/orders/\(cancelled)/cancel", "{}")
        #expect(cancel.status == 200, "\(cancel.text)")
        #expect(try F.status(a, cancelled) == "cancelled")
        #expect(try F.request(b, "POST", "/v1/orders/\(cancelled)/cancel", "{}").errorCode == "invalid_transition",
                "the owner's answer, relayed")

        // A courier pings b; b forwards the fix to a, which dispatches the order to it. The offer lives on a only,
        // and the courier answers it, picks up and delivers through b.
        let ping = #"{"lat":\#(F.pickup.lat + 0.0005),"lng":\#(F.pickup.lng + 0.0005),"ts":\#(b.nowMs),"status":"available"}"#
        #expect(try b.post("/v1/drivers/62/location", ping).status == 202)
        #expect(try eventually(within: 20) { try F.status(a, kept) == "dispatched" })
        let courier = try F.token(b, "driver", "62")
        // The courier's app polls b for its offers: b has none of its own and finds a's.
        let polled = try F.object(try F.request(b, "GET", "/v1/drivers/62/offers", token: courier))
        #expect(((polled["offers"] as? [[String: Any]])?.first?["order"] as? NSNumber)?.uint64Value == kept, "\(polled)")
        let nobody = try F.object(try F.request(b, "GET", "/v1/drivers/63/offers"))
        #expect((nobody["offers"] as? [Any])?.isEmpty == true, "\(nobody)")
        for (verb, status) in [("accept", "accepted"), ("pickup", "picked_up"), ("deliver", "delivered")] {
            let r = try F.request(b, "POST", "/v1/orders/\(kept)/\(verb)", "{}", token: courier)
            #expect(r.status == 200, "\(verb): \(r.text)")
            #expect(try eventually { try F.status(a, kept) == status })   // an accept is written after its answer
            if verb == "accept" {
                // A live order read at b carries the dispatcher's ETAs: the read is relayed to a, which plans it.
                #expect(try eventually {
                    let read = try F.object(try F.request(b, "GET", "/v1/orders/\(kept)", token: courier))
                    return read["eta_dropoff_ms"] is NSNumber
                }, "the owner's ETA through b")
            }
        }
        let relayed = try #require(try b.get("/v1/cluster").json as? [String: Any])
        #expect((relayed["relayed_order_writes"] as? Int ?? 0) >= 6, "\(relayed)")   // the offer polls are not counted
        #expect(relayed["relays_unanswered"] as? Int == 0)
        // An order nobody has is answered by the edge itself.
        #expect(try F.request(b, "POST", "/v1/orders/987654/cancel", "{}").errorCode == "order_not_found")
        #expect(try F.request(b, "POST", "/v1/orders/987654/accept", "{}", token: courier).errorCode == "offer_not_found")
    }
}

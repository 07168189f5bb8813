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
    private func shard(_ node: String, dir: String, url: String) throws -> TestEngine {
        let engine = try TestEngine(configure: {
            $0.dataDirectory = dir
            $0.graphPath = F.monaco
            $0.straightLineETA = true
            $0.dispatchIntervalMs = 100
            $0.trackTickMs = 20
            $0.postgresURL = url
            $0.nodeName = node
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
    }
}

@testable import Engine
import Foundation
import Logging
import Testing
import Vocabulary

/// The lease keeper's rounds against the real PostgreSQL (docs/cluster.md): two keepers on one database stand for
/// two engines; the rounds run on the test's thread (`roundNow`), and a dead engine is one whose rounds stop.
@Suite(.serialized, .enabled(if: ShardDatabase.server != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct LeaseKeeperTests {
    private let logger = Logger(label: "test.leases")
    /// A resolution-3 partition in Monaco (the cell of 43.7347 N, 7.4206 E).
    private let monaco = LeaseKeeper.partition(of: LatLng(degrees: 43.7347, 7.4206), resolution: 3)

    private func keeper(_ node: String, _ db: ShardDatabase, grace: Int64 = 2_000) throws -> LeaseKeeper {
        var settings = LeaseKeeper.Settings()
        settings.claimGraceMs = grace
        return try LeaseKeeper(node: node, resolution: 3, postgresURL: db.url, settings: settings, logger: logger)
    }

    /// What the TTL does to a dead engine, without waiting for it: its leases and heartbeat lapse now.
    private func lapse(_ db: ShardDatabase, node: String) throws {
        _ = try db.query("UPDATE partition_leases SET expires_at = now() - interval '1 second' WHERE owner = '\(node)'")
        _ = try db.query("UPDATE cluster_nodes SET expires_at = now() - interval '1 second' WHERE node = '\(node)'")
    }

    @Test("a wanted partition is claimed by its only live node; the other node sees it owned; when the owner dies its lease goes to the survivor with a new epoch and the dead node, back, sees it lost")
    func deathAndTakeover() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let a = try keeper("a", db), b = try keeper("b", db)
        a.want([monaco])
        let first = try #require(a.roundNow())
        #expect(first.mine == [monaco: 1])
        #expect(first.owners == [monaco: "a"])
        let seen = try #require(b.roundNow())
        #expect(seen.mine.isEmpty && seen.owners == [monaco: "a"] && seen.liveNodes == ["a", "b"])
        #expect(b.epoch(of: monaco) == nil)

        try lapse(db, node: "a")
        let takeover = try #require(b.roundNow())
        #expect(takeover.mine == [monaco: 2])
        #expect(takeover.liveNodes == ["b"])
        #expect(b.epoch(of: monaco) == 2)
        let back = try #require(a.roundNow())
        #expect(back.mine.isEmpty && back.owners == [monaco: "b"], "\(back)")
        #expect(a.epoch(of: monaco) == nil, "the writer thread stops using the lost epoch at once")
    }

    @Test("a restarted node (same name) shows its previous life's live lease as nobody's, cannot write with it, and claims it anew once it lapses")
    func restart() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let before = try keeper("a", db)
        before.want([monaco])
        #expect(try #require(before.roundNow()).mine == [monaco: 1])
        let after = try keeper("a", db)
        after.want([monaco])
        let view = try #require(after.roundNow())
        #expect(view.mine.isEmpty && view.owners.isEmpty, "\(view)")
        #expect(after.epoch(of: monaco) == nil)
        try lapse(db, node: "a")
        #expect(try #require(after.roundNow()).mine == [monaco: 2])
    }

    @Test("a node that is not a partition's rendezvous winner claims it only after the grace; the winner claims at once")
    func graceForNonWinners() throws {
        let db = try ShardDatabase()
        defer { db.drop() }
        let a = try keeper("a", db, grace: 60_000), b = try keeper("b", db, grace: 60_000)
        _ = a.roundNow()
        _ = b.roundNow()
        // A partition whose winner between a and b is b.
        let partition = try #require((0..<1_000).map { Int64(0x0830_0000_0000_0000) + Int64($0) << 45 }
            .first { Rendezvous.winner(of: $0, among: ["a", "b"]) == "b" })
        a.want([partition])
        #expect(try #require(a.roundNow()).mine.isEmpty, "a waits for b")
        let impatient = try keeper("a", db, grace: 0)
        impatient.want([partition])
        #expect(try #require(impatient.roundNow()).mine == [partition: 1])
    }

    @Test("rendezvous hashing: every node computes the same winner, a node leaving moves only its own partitions, and partitions spread over the nodes")
    func rendezvous() {
        let nodes = ["a", "b", "c"]
        let partitions = (0..<3_000).map { Int64(0x0830_0000_0000_0000) + Int64($0) << 45 }
        let winners = partitions.map { Rendezvous.winner(of: $0, among: nodes) }
        #expect(winners == partitions.map { Rendezvous.winner(of: $0, among: nodes.reversed()) })
        for node in nodes {
            let share = winners.filter { $0 == node }.count
            #expect(share > 800 && share < 1_200, "\(node): \(share) of 3000")
        }
        for (p, w) in zip(partitions, winners) where w != "c" {
            #expect(Rendezvous.winner(of: p, among: ["a", "b"]) == w)
        }
        #expect(Rendezvous.winner(of: 1, among: []) == nil)
    }
}

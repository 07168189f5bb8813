import Foundation

/// One row of `partition_leases` as the database sees it now.
public struct PartitionLease: Sendable, Equatable {
    /// The partition (an H3 cell id's bits).
    public var partition: Int64
    /// The node that holds or last held it.
    public var owner: String
    /// The epoch of that holding; every claim adds one.
    public var epoch: Int64
    /// Whether it has not expired by the database's clock.
    public var isLive: Bool

    public init(partition: Int64, owner: String, epoch: Int64, isLive: Bool) {
        self.partition = partition
        self.owner = owner
        self.epoch = epoch
        self.isLive = isLive
    }
}

/// The leases of region shards in PostgreSQL (docs/cluster.md): claims, renewals, releases and the node heartbeat.
/// Every time is PostgreSQL's (`now()`), never an engine's clock, so engines with skewed clocks agree on who holds
/// what. Blocking: one connection, used by one thread (the engine's lease keeper), never the loop.
public final class PartitionLeaseStore: @unchecked Sendable {
    private let connection: PGConnection
    private let url: String

    /// Connects to `url` and applies missing migrations (the lease tables are migration 9).
    /// - Throws: `storage_failure` when the server cannot be reached or the schema cannot be migrated.
    public init(url: String) throws(StorageError) {
        self.url = url
        do {
            connection = try PGConnection(url: url)
            _ = try PostgresSchema.migrate(connection, nowMs: StoreConfiguration.systemNowMs())
        } catch {
            throw error.storageError
        }
    }

    /// Runs `body`, connecting again once if the connection was lost (a restarted server, a failover).
    @discardableResult
    private func run<T>(_ body: (PGConnection) throws(PGError) -> T) throws(StorageError) -> T {
        do {
            return try body(connection)
        } catch let lost where lost.connectionLost {
            do {
                try connection.reconnect()
                return try body(connection)
            } catch {
                throw error.storageError
            }
        } catch {
            throw error.storageError
        }
    }

    /// Says `node` is alive for `ttlMs` more (a row in `cluster_nodes`).
    public func heartbeat(node: String, ttlMs: Int64) throws(StorageError) {
        try run { c throws(PGError) in
            try c.query("""
                INSERT INTO cluster_nodes (node, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
                ON CONFLICT (node) DO UPDATE SET expires_at = EXCLUDED.expires_at
                """, [.text(node), .int(ttlMs)])
        }
    }

    /// Claims `partition` for `node` if nobody holds a live lease on it: a new row at epoch 1, or the expired row's
    /// epoch plus one. PostgreSQL decides races (the row lock of `ON CONFLICT DO UPDATE`): one claimant wins.
    /// - Returns: the new epoch, or nil when a live lease stands (this node's own included: a restarted engine
    ///   waits for its old lease to lapse and never learns, let alone writes with, the old epoch).
    public func claim(_ partition: Int64, node: String, ttlMs: Int64) throws(StorageError) -> Int64? {
        let rows = try run { c throws(PGError) in
            try c.query("""
                INSERT INTO partition_leases AS l (partition, owner, epoch, expires_at)
                VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
                ON CONFLICT (partition) DO UPDATE
                  SET owner = EXCLUDED.owner, epoch = l.epoch + 1, expires_at = EXCLUDED.expires_at
                  WHERE l.expires_at <= now()
                RETURNING epoch
                """, [.int(partition), .text(node), .int(ttlMs)])
        }
        return rows.first?[0].flatMap(Int64.init)
    }

    /// Extends every lease of `node` named in `leases` (partition → epoch) that is still live under that epoch,
    /// in one statement. - Returns: the partitions renewed; the others are lost (expired or taken).
    public func renew(_ leases: [Int64: Int64], node: String, ttlMs: Int64) throws(StorageError) -> Set<Int64> {
        guard !leases.isEmpty else { return [] }
        let (partitions, epochs) = Self.arrays(leases)
        let rows = try run { c throws(PGError) in
            try c.query("""
                UPDATE partition_leases AS l SET expires_at = now() + $2 * interval '1 millisecond'
                FROM unnest($3::bigint[], $4::bigint[]) AS mine(partition, epoch)
                WHERE l.partition = mine.partition AND l.epoch = mine.epoch AND l.owner = $1 AND l.expires_at > now()
                RETURNING l.partition
                """, [.text(node), .int(ttlMs), .text(partitions), .text(epochs)])
        }
        return Set(rows.cells.compactMap { $0[0].flatMap(Int64.init) })
    }

    /// Gives up `node`'s leases named in `leases` at once (a clean stop): they expire now, so another node may claim
    /// them on its next round; the rows and their epochs stay, so the next claim's epoch is higher still.
    public func release(_ leases: [Int64: Int64], node: String) throws(StorageError) {
        guard !leases.isEmpty else { return }
        let (partitions, epochs) = Self.arrays(leases)
        try run { c throws(PGError) in
            try c.query("""
                UPDATE partition_leases AS l SET expires_at = now()
                FROM unnest($2::bigint[], $3::bigint[]) AS mine(partition, epoch)
                WHERE l.partition = mine.partition AND l.epoch = mine.epoch AND l.owner = $1 AND l.expires_at > now()
                """, [.text(node), .text(partitions), .text(epochs)])
        }
    }

    /// Removes `node` from the live nodes (a clean stop).
    public func leave(node: String) throws(StorageError) {
        try run { c throws(PGError) in try c.query("DELETE FROM cluster_nodes WHERE node = $1", [.text(node)]) }
    }

    /// Every lease row, live or not, by partition.
    public func leases() throws(StorageError) -> [PartitionLease] {
        let rows = try run { c throws(PGError) in
            try c.query("SELECT partition, owner, epoch, expires_at > now() FROM partition_leases ORDER BY partition")
        }
        return rows.cells.compactMap { r in
            guard let p = r[0].flatMap(Int64.init), let owner = r[1], let e = r[2].flatMap(Int64.init) else { return nil }
            return PartitionLease(partition: p, owner: owner, epoch: e, isLive: r[3] == "t")
        }
    }

    /// The nodes whose heartbeat has not expired, sorted.
    public func liveNodes() throws(StorageError) -> [String] {
        let rows = try run { c throws(PGError) in
            try c.query("SELECT node FROM cluster_nodes WHERE expires_at > now() ORDER BY node COLLATE \"C\"")
        }
        return rows.cells.compactMap { $0[0] }
    }

    /// PostgreSQL array literals of the partitions and their epochs, in the same order.
    private static func arrays(_ leases: [Int64: Int64]) -> (String, String) {
        let pairs = leases.sorted { $0.key < $1.key }
        return ("{" + pairs.map { String($0.key) }.joined(separator: ",") + "}",
                "{" + pairs.map { String($0.value) }.joined(separator: ",") + "}")
    }
}

extension PostgresStore {
    /// Refuses the write unless this engine's lease on `partition` is live under the epoch it holds, locking the
    /// lease row (`FOR SHARE`) until the transaction ends, so no other node can claim the partition between this
    /// check and the COMMIT (its claim waits for the lock, then sees the lease live or the write done). A lease this
    /// transaction already locked under the same epoch is not read again: the lock still stands, so no claim came
    /// between (a group-commit batch of writes to one partition costs one check, not one a write).
    static func checkLease(_ conn: PGConnection, fence: any OrderWriteFence, partition: Int64) throws {
        guard let epoch = fence.epoch(of: partition) else {
            throw StorageError(.partitionMoved, "node \(fence.node) holds no lease on partition \(Self.partitionText(partition))")
        }
        if conn.leasesLockedInTransaction[partition] == epoch { return }
        let held = try conn.query("""
            SELECT 1 FROM partition_leases
            WHERE partition = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp() FOR SHARE
            """, [.int(partition), .text(fence.node), .int(epoch)])
        guard held.count == 1 else {
            throw StorageError(.partitionMoved,
                               "node \(fence.node)'s lease on partition \(Self.partitionText(partition)) (epoch \(epoch)) is no longer held")
        }
        conn.leasesLockedInTransaction[partition] = epoch
    }

    /// A partition as H3 writes it: the cell id's 64 bits in lowercase hex.
    static func partitionText(_ partition: Int64) -> String { String(UInt64(bitPattern: partition), radix: 16) }
}

import Foundation
import Synchronization

/// The `Store` on PostgreSQL 15 through libpq: the same tables, checks and semantics as `SQLiteStore`, for engines
/// that keep orders in a database server (`hexfleet serve --postgres URL`).
///
/// Writes go through group commit as in SQLite: a dedicated writer thread with its own connection takes everything
/// queued (up to `maxBatch`) and commits it in one transaction; completions run on that thread after `COMMIT`
/// returned. Reads take a connection from a small pool (any thread but the loop's). A lost connection is opened
/// again from the URL, so a URL listing several hosts with `target_session_attrs=read-write` follows a failover
/// to the new primary (docs/storage.md, "PostgreSQL").
public final class PostgresStore: Store, FenceStore, PartitionedOrderStore {
    /// A queued write: runs inside the batch transaction and hands back what to call after `COMMIT`.
    struct Write: Sendable {
        let apply: @Sendable (PGConnection) throws -> @Sendable () -> Void
        let fail: @Sendable (StorageError) -> Void
    }

    let url: String
    let nowMs: @Sendable () -> Int64
    /// The prefix of this database's event ids when every order event also writes an outbox row
    /// (`StoreConfiguration.outbox`); nil without the outbox.
    public let outboxPrefix: String?
    /// Cluster mode: the lease every order write is checked against (docs/cluster.md); nil for one engine.
    let fence: (any OrderWriteFence)?
    /// Cluster mode: the most active orders a courier may hold across shards (`courier_slots`); nil: unchecked.
    let courierCapacity: Int?
    /// Idle reader connections; nil once the store is closed (reads then fail, as SQLite's do after `close`).
    private let readers = Mutex<[PGConnection]?>([])
    private let writer: PostgresWriter
    private let batcher: WriteBatcher<Write>

    /// Connects to `url` (a libpq URL such as `postgresql://user@127.0.0.1:5432/hexfleet`), applies missing
    /// migrations and starts the writer thread.
    /// - Throws: `storage_failure` when the server cannot be reached or the schema cannot be migrated.
    public init(url: String, configuration: StoreConfiguration = StoreConfiguration()) throws(StorageError) {
        self.url = url
        nowMs = configuration.nowMs
        fence = configuration.fence
        courierCapacity = configuration.courierCapacity
        let synchronousCommit = configuration.synchronous == .full
        let conn: PGConnection
        do {
            conn = try PGConnection(url: url)
            _ = try PostgresSchema.migrate(conn, nowMs: configuration.nowMs())
            try PostgresWriter.prepare(conn, synchronousCommit: synchronousCommit)
            outboxPrefix = configuration.outbox
                ? try conn.query("SELECT id FROM store_identity").first?[0] ?? "0000000000000000"
                : nil
        } catch {
            throw error.storageError
        }
        let writer = PostgresWriter(url: url, connection: conn, synchronousCommit: synchronousCommit)
        self.writer = writer
        let maxBatch = configuration.groupCommit ? configuration.maxBatch : 1
        batcher = WriteBatcher(name: "hexfleet.storage.pgwriter", maxBatch: maxBatch) { batch in writer.commit(batch) }
    }

    deinit { batcher.close() }

    /// Writer counters (transactions, operations, largest batch, failed transactions, queue depth).
    public var writeStats: WriteStats {
        var s = writer.stats.withLock { $0 }
        s.queued = UInt64(batcher.queued)
        return s
    }

    /// Names of the applied migrations, in order.
    public func appliedMigrations() throws(StorageError) -> [String] {
        try read { conn throws(PGError) in try PostgresSchema.applied(conn) }
    }

    public func flush() {
        let done = DispatchSemaphore(value: 0)
        enqueue(Write(apply: { _ in { done.signal() } }, fail: { _ in done.signal() }))
        done.wait()
    }

    public func close() {
        batcher.close()
        writer.disconnect()
        readers.withLock { $0 = nil }
    }

    // MARK: - writes

    private func enqueue(_ write: Write) {
        if !batcher.submit(write) { write.fail(StorageError(.closed, "the store is closed")) }
    }

    /// Queues `body` for the writer; its result or thrown error goes to `completion` after the commit.
    func submit<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T,
                             completion: @escaping @Sendable (Result<T, StorageError>) -> Void) {
        enqueue(Write(
            apply: { conn in
                let value = try body(conn)
                return { completion(.success(value)) }
            },
            fail: { error in completion(.failure(error)) }))
    }

    // MARK: - reads

    /// Runs `body` on a pooled reader connection (opened on demand, given back after), on the caller's thread.
    /// A connection found lost is dropped and the read tried once more on a new one.
    func read<T>(_ body: (PGConnection) throws(PGError) -> T) throws(StorageError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let conn: PGConnection
            let (isOpen, idle) = readers.withLock { r -> (Bool, PGConnection?) in (r != nil, r?.popLast()) }
            guard isOpen else { throw StorageError(.storageFailure, "the store is closed") }
            if let idle {
                conn = idle
            } else {
                do { conn = try PGConnection(url: url) } catch { throw error.storageError }
            }
            do {
                let value = try body(conn)
                giveBack(conn)
                return value
            } catch {
                if error.connectionLost && attempt < 2 { continue }
                if !error.connectionLost { giveBack(conn) }
                throw error.storageError
            }
        }
    }

    /// Keeps a reader connection for the next read (at most 8 idle; none after `close`).
    private func giveBack(_ conn: PGConnection) {
        readers.withLock { r in if let n = r?.count, n < 8 { r?.append(conn) } }
    }
}

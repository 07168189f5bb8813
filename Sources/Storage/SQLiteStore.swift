import Foundation
import GRDB
import Synchronization

/// The default `Store`: one SQLite file in WAL mode behind a GRDB `DatabasePool`, written by a
/// group-commit writer thread (`GroupCommitWriter`) and read from pooled reader connections.
///
/// Open a file once per process (GRDB's rule: one pool per file). Opening applies the named
/// migrations (`SQLiteSchema`), so a new file and an old one end with the same schema.
/// Recovery needs no replay: every acknowledged write is a committed transaction, and
/// `liveOrders()` answers what was in flight.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    let writer: GroupCommitWriter
    let nowMs: @Sendable () -> Int64
    /// The file's path.
    public let path: String
    /// The prefix of this store's event ids when every order event also writes an outbox row
    /// (`StoreConfiguration.outbox`): the file's random identity, so two stores' events never share an id; nil
    /// without the outbox.
    public let outboxPrefix: String?
    /// Whether every order event also writes an outbox row.
    public var writesOutbox: Bool { outboxPrefix != nil }

    /// Opens (creating if needed) the database at `path` and starts the writer thread.
    /// - Throws: `storage_failure` when the file cannot be opened or migrated.
    public init(path: String, configuration: StoreConfiguration = StoreConfiguration()) throws(StorageError) {
        self.path = path
        self.nowMs = configuration.nowMs
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.label = "hexfleet.storage"
        config.maximumReaderCount = 4
        // Another process (sqlite3, a backup) or a pool closing in this one may hold a lock briefly.
        config.busyMode = .timeout(5)
        let sync = configuration.synchronous.rawValue
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB sets synchronous=NORMAL on the writer connection after `prepareDatabase` when it
            // turns WAL on, so the level is set here, on the pool's one writer connection, where it stays.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(sync)") }
            try SQLiteSchema.migrator().migrate(pool)
            outboxPrefix = configuration.outbox
                ? try pool.read { db in try String.fetchOne(db, sql: "SELECT id FROM store_identity") } ?? "0000000000000000"
                : nil
        } catch {
            throw StorageError.wrap(error)
        }
        writer = GroupCommitWriter(pool: pool, maxBatch: configuration.maxBatch,
                                   groupCommit: configuration.groupCommit)
    }

    deinit { writer.close() }

    /// Writer counters (transactions, operations, largest batch), for metrics and tests.
    public var writeStats: WriteStats { writer.stats }

    /// Names of the migrations applied to the file, in order.
    public func appliedMigrations() throws(StorageError) -> [String] {
        try read { db in try SQLiteSchema.migrator().appliedMigrations(db) }
    }

    /// The `journal_mode` and `synchronous` pragmas as SQLite reports them on a writer connection.
    public func pragmas() throws(StorageError) -> (journalMode: String, synchronous: Int) {
        do {
            return try pool.write { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                 try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
            }
        } catch { throw StorageError.wrap(error) }
    }

    public func flush() {
        let done = DispatchSemaphore(value: 0)
        writer.submit(PendingWrite(apply: { _ in { done.signal() } }, fail: { _ in done.signal() }))
        done.wait()
    }

    public func close() {
        writer.close()
        // Closing the connections checkpoints the WAL and lets the file be opened again at once;
        // later reads fail with `storage_failure`. A second close is a no-op.
        try? pool.close()
    }

    // MARK: - plumbing

    /// Runs a read on a pooled reader connection, mapping errors.
    func read<T>(_ body: (Database) throws -> T) throws(StorageError) -> T {
        do { return try pool.read(body) } catch { throw StorageError.wrap(error) }
    }

    /// Queues `body` for the writer; its result or thrown error goes to `completion` after commit.
    func submit<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T,
                             completion: @escaping @Sendable (Result<T, StorageError>) -> Void) {
        writer.submit(PendingWrite(
            apply: { db in
                let value = try body(db)
                return { completion(.success(value)) }
            },
            fail: { error in completion(.failure(error)) }))
    }
}

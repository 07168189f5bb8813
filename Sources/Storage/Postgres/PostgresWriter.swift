import Synchronization

/// The writer thread's half of `PostgresStore`: its connection and the commit of one batch.
final class PostgresWriter: Sendable {
    private let url: String
    private let synchronousCommit: Bool
    /// Touched only by the writer thread (and by `close` after the thread ended).
    private let connection: Mutex<PGConnection?>
    let stats = Mutex(WriteStats())

    init(url: String, connection: PGConnection, synchronousCommit: Bool) {
        self.url = url
        self.synchronousCommit = synchronousCommit
        self.connection = Mutex(connection)
    }

    /// `synchronous_commit`: on (COMMIT waits for the WAL flush) for `.full`; off for `.normal` (survives the
    /// engine's `kill -9`, but a crash of the database server may lose the last commits).
    static func prepare(_ conn: PGConnection, synchronousCommit: Bool) throws(PGError) {
        try conn.execute("SET synchronous_commit = \(synchronousCommit ? "on" : "off")")
    }

    func disconnect() { connection.withLock { $0 = nil } }

    /// Why a batch did not commit.
    private enum BatchFailure: Error {
        /// An operation failed: run the batch again with a savepoint around each operation.
        case operationFailed
        /// The connection was lost before COMMIT was sent: nothing committed, the batch may run again.
        case lostBeforeCommit(PGError)
        /// The batch cannot commit (COMMIT failed or its outcome is unknown): every operation fails with this.
        case failed(StorageError)
    }

    /// Commits one batch. The common case pays no savepoints: the operations run one after another in one
    /// transaction; if one of them fails (a refused transition, an idempotency conflict, a constraint) the whole
    /// transaction rolls back and the batch runs again with each operation in its own savepoint, so the failing
    /// one rolls back alone and its neighbours commit, as in SQLite. A connection lost before COMMIT reconnects and
    /// runs the batch again once; one lost during COMMIT fails the batch (`storage_failure`: the outcome is
    /// unknown, and a retry with the same idempotency key answers the order if it did commit).
    func commit(_ batch: [PostgresStore.Write]) {
        var retriedConnection = false
        var savepoints = false
        while true {
            let outcome = runBatch(batch, savepoints: savepoints)
            switch outcome {
            case .success(let completions):
                stats.withLock { s in
                    s.transactions += 1
                    s.operations += UInt64(batch.count)
                    s.largestBatch = max(s.largestBatch, UInt64(batch.count))
                }
                for c in completions { c() }
                return
            case .failure(.operationFailed) where !savepoints:
                savepoints = true
            case .failure(.lostBeforeCommit) where !retriedConnection:
                retriedConnection = true
            case .failure(.lostBeforeCommit(let e)):
                fail(batch, e.storageError)
                return
            case .failure(.operationFailed):
                fail(batch, StorageError(.storageFailure, "the batch failed with savepoints"))
                return
            case .failure(.failed(let e)):
                fail(batch, e)
                return
            }
        }
    }

    private func fail(_ batch: [PostgresStore.Write], _ error: StorageError) {
        stats.withLock { $0.failedTransactions += 1 }
        for op in batch { op.fail(error) }
    }

    /// The writer's connection, opened again if it was lost.
    private func writerConnectionReady() throws(PGError) -> PGConnection {
        try connection.withLock { (slot: inout PGConnection?) throws(PGError) -> PGConnection in
            if let c = slot, c.isOK { return c }
            let c = try PGConnection(url: url)
            try Self.prepare(c, synchronousCommit: synchronousCommit)
            slot = c
            return c
        }
    }

    private func runBatch(_ batch: [PostgresStore.Write], savepoints: Bool) -> Result<[@Sendable () -> Void], BatchFailure> {
        let conn: PGConnection
        do { conn = try writerConnectionReady() } catch { return .failure(.lostBeforeCommit(error)) }
        func lost(_ e: PGError) -> Result<[@Sendable () -> Void], BatchFailure> {
            e.connectionLost ? .failure(.lostBeforeCommit(e)) : .failure(.failed(e.storageError))
        }
        conn.leasesLockedInTransaction.removeAll()
        defer { conn.leasesLockedInTransaction.removeAll() }
        do { try conn.execute("BEGIN") } catch { return lost(error) }
        var completions: [@Sendable () -> Void] = []
        completions.reserveCapacity(batch.count)
        for op in batch {
            if savepoints {
                do { try conn.execute("SAVEPOINT op") } catch {
                    try? conn.execute("ROLLBACK")
                    return lost(error)
                }
            }
            do {
                let done = try op.apply(conn)
                if savepoints {
                    do { try conn.execute("RELEASE SAVEPOINT op") } catch {
                        try? conn.execute("ROLLBACK")
                        return lost(error)
                    }
                }
                completions.append(done)
            } catch {
                let pg = error as? PGError
                if let pg, pg.connectionLost { return .failure(.lostBeforeCommit(pg)) }
                guard savepoints else {
                    try? conn.execute("ROLLBACK")
                    // A lone operation's failure is the batch's: it fails alone with nothing to run again.
                    if batch.count == 1 {
                        let e = pg?.storageError ?? StorageError.wrap(error)
                        return .success([{ op.fail(e) }])
                    }
                    return .failure(.operationFailed)
                }
                // A row lock taken after the savepoint goes with it; check every lease again from here on.
                conn.leasesLockedInTransaction.removeAll()
                do { try conn.execute("ROLLBACK TO SAVEPOINT op") } catch {
                    try? conn.execute("ROLLBACK")
                    return lost(error)
                }
                let e = pg?.storageError ?? StorageError.wrap(error)
                completions.append { op.fail(e) }
            }
        }
        do { try conn.execute("COMMIT") } catch {
            if !error.connectionLost { try? conn.execute("ROLLBACK") }
            let why = error.connectionLost
                ? StorageError(.storageFailure, "the connection to PostgreSQL was lost during COMMIT; the outcome is unknown: \(error.message)")
                : error.storageError
            return .failure(.failed(why))
        }
        return .success(completions)
    }

}

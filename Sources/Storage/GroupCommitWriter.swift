import Foundation
import GRDB
import Synchronization

/// A queued write: runs inside the batch transaction (in its own savepoint) and hands back what to
/// call once the transaction has committed.
struct PendingWrite: Sendable {
    /// Applies the operation; a throw rolls back this operation's savepoint only. Returns the
    /// completion call to make after commit.
    let apply: @Sendable (Database) throws -> @Sendable () -> Void
    /// Called instead when the operation failed or its transaction could not commit.
    let fail: @Sendable (StorageError) -> Void
}

/// Group commit: a dedicated writer thread drains a Mutex-protected queue and commits each batch
/// in one `write { db in }` transaction, so one fsync covers many operations.
///
/// ```
///  any thread ──submit──► [ Mutex<queue> ] ──drain ≤ maxBatch──► writer thread
///                                                               BEGIN IMMEDIATE
///                                                                 SAVEPOINT op1 … RELEASE
///                                                                 SAVEPOINT op2 … RELEASE
///                                                               COMMIT (one fsync)
///                                                               completion1(), completion2() …
/// ```
/// While a batch commits, new submissions pile up and form the next batch: the batch size grows with
/// load by itself, and an idle writer commits a lone operation at once (no timer, no added latency).
/// An operation that throws rolls back its own savepoint and fails alone; a failed COMMIT fails the
/// whole batch. Completions run on the writer thread, in submission order, after the commit.
final class GroupCommitWriter: Sendable {
    /// What the writer thread uses: the pool, the file's identity, the counters.
    private final class Committer: Sendable {
        let pool: DatabasePool
        /// Device and inode of the database file when the writer started; a batch finding others refuses to write.
        let fileIdentity: FileIdentity?
        let stats = Mutex(WriteStats())

        init(pool: DatabasePool) {
            self.pool = pool
            fileIdentity = GroupCommitWriter.identity(of: pool.path)
        }
    }

    private let committer: Committer
    /// The queue and the writer thread.
    private let batcher: WriteBatcher<PendingWrite>

    init(pool: DatabasePool, maxBatch: Int, groupCommit: Bool) {
        let committer = Committer(pool: pool)
        self.committer = committer
        batcher = WriteBatcher(name: "hexfleet.storage.writer", maxBatch: groupCommit ? maxBatch : 1) { batch in
            Self.commit(batch, committer)
        }
    }

    /// Queues a write; fails it at once with `storage_closed` after `close()`.
    func submit(_ write: PendingWrite) {
        if !batcher.submit(write) { write.fail(StorageError(.closed, "the store is closed")) }
    }

    /// Counters so far.
    var stats: WriteStats {
        var st = committer.stats.withLock { $0 }
        st.queued = UInt64(batcher.queued)
        return st
    }

    /// Refuses new writes, lets the writer drain what is queued, and waits for the thread to finish.
    func close() { batcher.close() }

    private static func commit(_ batch: [PendingWrite], _ committer: Committer) {
        let pool = committer.pool, fileIdentity = committer.fileIdentity
        var completions: [@Sendable () -> Void] = []
        completions.reserveCapacity(batch.count)
        do {
            try pool.write { db in
                completions.removeAll(keepingCapacity: true)   // a retried closure starts clean
                // A file deleted (or renamed) under the engine still takes writes through the open descriptor, and
                // they vanish with it: refuse them instead of acknowledging orders that a restart would not find.
                // (SQLite's own check, SQLITE_FCNTL_HAS_MOVED, is the same stat, behind a module we do not import.)
                guard Self.identity(of: pool.path) == fileIdentity else {
                    throw StorageError(.storageFailure, "the database file \(pool.path) was deleted or moved under the running engine")
                }
                // Some errors (SQLITE_FULL, IOERR, NOMEM) make SQLite roll the whole transaction back; the rest of
                // the batch must not run in autocommit mode, so the batch fails, with the error that caused it (a
                // full disk stays `storage_full` for every operation of the batch).
                var lastError: StorageError?
                func rolledBack() -> StorageError {
                    lastError.map { $0.code == .storageFull ? $0 : StorageError(.storageFailure, "the batch transaction was rolled back by SQLite: \($0.message)") }
                        ?? StorageError(.storageFailure, "the batch transaction was rolled back by SQLite")
                }
                for op in batch {
                    guard db.isInsideTransaction else { throw rolledBack() }
                    var done: (@Sendable () -> Void)?
                    do {
                        try db.inSavepoint {
                            done = try op.apply(db)
                            return .commit
                        }
                    } catch {
                        let e = StorageError.wrap(error)
                        lastError = e
                        done = { op.fail(e) }
                    }
                    completions.append(done ?? { op.fail(StorageError(.storageFailure, "operation produced no result")) })
                }
                guard db.isInsideTransaction else { throw rolledBack() }
            }
        } catch {
            let e = StorageError.wrap(error)
            committer.stats.withLock { $0.failedTransactions += 1 }
            for op in batch { op.fail(e) }
            return
        }
        committer.stats.withLock { s in
            s.transactions += 1
            s.operations += UInt64(batch.count)
            s.largestBatch = max(s.largestBatch, UInt64(batch.count))
        }
        for c in completions { c() }
    }
}

extension GroupCommitWriter {
    struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    /// The file's device and inode; nil when it does not exist.
    static func identity(of path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}

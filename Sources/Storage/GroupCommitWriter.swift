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
    private struct State {
        var queue: [PendingWrite] = []
        var writerIdle = false
        var closed = false
        var stats = WriteStats()
    }

    private let pool: DatabasePool
    private let maxBatch: Int
    private let groupCommit: Bool
    private let state = Mutex(State())
    /// Wakes the writer; signalled only by the submitter that saw `writerIdle` and cleared it,
    /// so every signal matches exactly one wait.
    private let wakeup = DispatchSemaphore(value: 0)
    /// Signalled once when the writer thread has left its loop.
    private let finished = DispatchSemaphore(value: 0)

    /// Device and inode of the database file when the writer started; a batch finding others refuses to write.
    private let fileIdentity: FileIdentity?

    init(pool: DatabasePool, maxBatch: Int, groupCommit: Bool) {
        self.pool = pool
        fileIdentity = Self.identity(of: pool.path)
        self.maxBatch = max(1, maxBatch)
        self.groupCommit = groupCommit
        let thread = Thread { [self] in self.run() }
        thread.name = "hexfleet.storage.writer"
        thread.start()
    }

    /// Queues a write; fails it at once with `storage_closed` after `close()`.
    func submit(_ write: PendingWrite) {
        let (accepted, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closed { return (false, false) }
            s.queue.append(write)
            let wake = s.writerIdle
            s.writerIdle = false
            return (true, wake)
        }
        if !accepted {
            write.fail(StorageError(.closed, "the store is closed"))
            return
        }
        if wake { wakeup.signal() }
    }

    /// Counters so far.
    var stats: WriteStats {
        state.withLock { s in
            var st = s.stats
            st.queued = UInt64(s.queue.count)
            return st
        }
    }

    /// Refuses new writes, lets the writer drain what is queued, and waits for the thread to finish.
    func close() {
        let (first, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closed { return (false, false) }
            s.closed = true
            let wake = s.writerIdle
            s.writerIdle = false
            return (true, wake)
        }
        guard first else { return }
        if wake { wakeup.signal() }
        finished.wait()
    }

    private func run() {
        while true {
            let next = state.withLock { s -> (batch: [PendingWrite], stop: Bool) in
                if s.queue.isEmpty {
                    if s.closed { return ([], true) }
                    s.writerIdle = true
                    return ([], false)
                }
                let n = groupCommit ? min(maxBatch, s.queue.count) : 1
                let batch = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return (batch, false)
            }
            if next.stop { break }
            if next.batch.isEmpty {
                wakeup.wait()
                continue
            }
            commit(next.batch)
        }
        finished.signal()
    }

    private func commit(_ batch: [PendingWrite]) {
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
            state.withLock { s in s.stats.failedTransactions += 1 }
            for op in batch { op.fail(e) }
            return
        }
        state.withLock { s in
            s.stats.transactions += 1
            s.stats.operations += UInt64(batch.count)
            s.stats.largestBatch = max(s.stats.largestBatch, UInt64(batch.count))
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

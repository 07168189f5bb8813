/// How a `SQLiteStore` opens its file and batches writes.
public struct StoreConfiguration: Sendable {
    /// SQLite's `PRAGMA synchronous` under WAL; see docs/storage.md for the durability trade-off.
    public enum Synchronous: String, Sendable {
        /// fsync of the WAL at every commit: a committed batch survives power loss.
        case full = "FULL"
        /// No fsync at commit (only at checkpoints): survives `kill -9` of the process, not power loss.
        case normal = "NORMAL"
    }

    /// Durability level; default `.full`.
    public var synchronous: Synchronous = .full
    /// Most operations committed in one transaction (≥ 1); default 1024.
    public var maxBatch: Int = 1024
    /// Group commit on (default). Off, every operation gets its own transaction: the baseline
    /// the benchmark compares against.
    public var groupCommit: Bool = true
    /// Every order event also writes an outbox row in its transaction, for the event relay (docs/events.md);
    /// off by default, since without a relay nothing would empty the table.
    public var outbox: Bool = false
    /// Cluster mode (PostgreSQL only): every order write checks, in its transaction, this engine's lease on the
    /// order's partition (docs/cluster.md); nil: no fencing, one engine.
    public var fence: (any OrderWriteFence)?
    /// Cluster mode (PostgreSQL only): a courier holds at most this many active orders (dispatched, accepted,
    /// picked up) across every engine writing the database, one `courier_slots` row each, so the slots' key decides
    /// two shards racing for one courier (docs/cluster.md); nil: not checked (one engine's dispatch keeps it).
    public var courierCapacity: Int?
    /// Clock in milliseconds since the Unix epoch; injected so tests control time.
    public var nowMs: @Sendable () -> Int64 = { StoreConfiguration.systemNowMs() }

    /// The defaults.
    public init() {}

    /// The wall clock, ms since the epoch.
    public static func systemNowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counters of the writer thread, as plain numbers the Engine exports as metrics.
public struct WriteStats: Sendable, Equatable {
    /// Transactions committed (one fsync each under `synchronous=FULL`).
    public var transactions: UInt64 = 0
    /// Operations committed or refused inside those transactions.
    public var operations: UInt64 = 0
    /// Largest batch seen.
    public var largestBatch: UInt64 = 0
    /// Transactions that failed to commit (every operation in them failed with `storage_failure`).
    public var failedTransactions: UInt64 = 0
    /// Operations waiting for the writer right now.
    public var queued: UInt64 = 0
}

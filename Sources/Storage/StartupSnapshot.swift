import Foundation
import Synchronization

/// What an engine reloads from its store at start (live orders, rating totals, pending webhook deliveries, fences),
/// read by `read(_:)` on worker threads, all at once: the caller (the loop's thread, before anything listens) only
/// waits, so no store read runs on the loop, and a PostgreSQL start costs the slowest read's time, not their sum.
public struct StartupSnapshot: Sendable {
    /// `Store.liveOrders()`.
    public var liveOrders: [OrderRecord] = []
    /// `Store.ratingTotals(kind:)` of each kind.
    public var ratingTotals: [RatingSubjectKind: [RatingTotals]] = [:]
    /// `Store.pendingWebhooks()`.
    public var pendingWebhooks: [WebhookDeliveryRecord] = []
    /// `FenceStore.fences()`.
    public var fences: [StoredFence] = []

    /// An empty snapshot.
    public init() {}

    /// Reads everything from `store`, each read on its own worker thread, and returns once all have answered.
    /// - Throws: the first read's error, in the order of the properties above.
    public static func read(_ store: any Store & FenceStore) throws(StorageError) -> StartupSnapshot {
        let kinds = RatingSubjectKind.allCases
        let liveOrders = Mutex<Result<[OrderRecord], StorageError>?>(nil)
        let totals = Mutex<[RatingSubjectKind: Result<[RatingTotals], StorageError>]>([:])
        let pending = Mutex<Result<[WebhookDeliveryRecord], StorageError>?>(nil)
        let fences = Mutex<Result<[StoredFence], StorageError>?>(nil)
        let reads = 3 + kinds.count
        // Not `concurrentPerform`, which runs some iterations on the calling thread.
        let group = DispatchGroup()
        for i in 0..<reads {
            DispatchQueue.global().async(group: group) {
                switch i {
                case 0: liveOrders.withLock { $0 = Result { () throws(StorageError) in try store.liveOrders() } }
                case 1: pending.withLock { $0 = Result { () throws(StorageError) in try store.pendingWebhooks() } }
                case 2: fences.withLock { $0 = Result { () throws(StorageError) in try store.fences() } }
                default:
                    let kind = kinds[i - 3]
                    let rows = Result { () throws(StorageError) in try store.ratingTotals(kind: kind) }
                    totals.withLock { $0[kind] = rows }
                }
            }
        }
        group.wait()
        var snapshot = StartupSnapshot()
        snapshot.liveOrders = try Self.value(liveOrders.withLock { $0 })
        for kind in kinds { snapshot.ratingTotals[kind] = try Self.value(totals.withLock { $0[kind] }) }
        snapshot.pendingWebhooks = try Self.value(pending.withLock { $0 })
        snapshot.fences = try Self.value(fences.withLock { $0 })
        return snapshot
    }

    private static func value<T>(_ result: Result<T, StorageError>?) throws(StorageError) -> T {
        guard let result else { throw StorageError(.storageFailure, "a start-up read did not run") }
        return try result.get()
    }
}

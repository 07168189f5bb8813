import Foundation
import Synchronization

/// Blocking forms of the asynchronous writes, for tests, tools and worker threads.
/// They wait for the commit: never call them on the loop thread.
extension Store {
    /// `createOrder`, waiting for its completion.
    public func createOrderAndWait(_ order: NewOrder, idempotency: IdempotencyRequest? = nil,
                                   actor: ActorRef) throws(StorageError) -> CreateOrderOutcome {
        try Self.wait { createOrder(order, idempotency: idempotency, actor: actor, completion: $0) }
    }

    /// `transitionOrder`, waiting for its completion.
    public func transitionOrderAndWait(_ request: OrderTransitionRequest) throws(StorageError) -> OrderRecord {
        try Self.wait { transitionOrder(request, completion: $0) }.order
    }

    /// `addRating`, waiting for its completion.
    public func addRatingAndWait(_ rating: NewRating) throws(StorageError) -> RatingRecord {
        try Self.wait { addRating(rating, completion: $0) }
    }

    /// Runs an asynchronous call and blocks until its completion delivers a result.
    public static func wait<T: Sendable>(
        _ start: (@escaping @Sendable (Result<T, StorageError>) -> Void) -> Void
    ) throws(StorageError) -> T {
        let box = Mutex<Result<T, StorageError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        start { result in
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        // The semaphore orders the write above before this read; nil cannot happen.
        guard let result = box.withLock({ $0 }) else { throw StorageError(.storageFailure, "no result") }
        return try result.get()
    }
}

import Foundation
import Synchronization
import Testing
@testable import Storage

@Suite("Stores: the start-up reads, made off the caller's thread")
struct StartupSnapshotTests {
    /// Waits for a write's completion.
    private func wait<T: Sendable>(_ submit: (@escaping @Sendable (Result<T, StorageError>) -> Void) -> Void) throws -> T {
        let outcome = Mutex<Result<T, StorageError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        submit { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try #require(outcome.withLock { $0 }).get()
    }

    @Test("the snapshot holds what each read answers: live orders, rating totals, pending webhooks, fences",
          arguments: StoreKind.testable)
    func sameAsTheReads(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let live = try OrderTransitionTests.reach(.accepted, in: store)
        let delivered = try OrderTransitionTests.reach(.pickedUp, in: store)
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: delivered, from: [.pickedUp], to: .delivered,
                                                                   actor: .system))
        _ = try store.addRatingAndWait(NewRating(orderID: delivered, direction: .customerToCourier, raterID: "7", stars: 4))
        _ = try store.addRatingAndWait(NewRating(orderID: delivered, direction: .courierToCustomer, raterID: "3", stars: 5))
        _ = try wait { store.enqueueWebhook(endpoint: "http://127.0.0.1:9/hook", event: "order.created", body: Array("{}".utf8),
                                            completion: $0) }
        try wait { store.putFence(StoredFence(id: "zone-1", definition: Array("{\"id\":\"zone-1\"}".utf8), expiresAtMs: nil),
                                  completion: $0) }

        let snapshot = try StartupSnapshot.read(store)
        #expect(snapshot.liveOrders.map(\.id) == [live])
        #expect(snapshot.liveOrders == (try store.liveOrders()))
        #expect(snapshot.ratingTotals[.courier] == [RatingTotals(kind: .courier, subjectID: "3", count: 1, starsSum: 4)])
        #expect(snapshot.ratingTotals[.customer] == [RatingTotals(kind: .customer, subjectID: "7", count: 1, starsSum: 5)])
        #expect(snapshot.pendingWebhooks.map(\.endpoint) == ["http://127.0.0.1:9/hook"])
        #expect(snapshot.pendingWebhooks == (try store.pendingWebhooks()))
        #expect(snapshot.fences.map(\.id) == ["zone-1"])
    }

    @Test("a closed store's reads fail and the snapshot reports the error instead of an empty start",
          arguments: StoreKind.testable)
    func failedRead(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        _ = try OrderTransitionTests.reach(.created, in: store)
        store.close()
        #expect(throws: StorageError.self) { try StartupSnapshot.read(store) }
    }
}

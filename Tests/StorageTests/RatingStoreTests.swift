import Foundation
import Testing
@testable import Storage

@Suite("Ratings and webhook rows in the store")
struct RatingStoreTests {
    @Test("ratings need a delivered order and the right rater, land once per direction and update totals", arguments: StoreKind.testable)
    func ratingRules(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let id = try OrderTransitionTests.reach(.pickedUp, in: store)   // customer 7, courier 3
        let early = NewRating(orderID: id, direction: .customerToCourier, raterID: "7", stars: 5)
        expectStorageError(.ratingNotAllowed) { try store.addRatingAndWait(early) }
        _ = try store.transitionOrderAndWait(OrderTransitionRequest(orderID: id, from: [.pickedUp], to: .delivered, actor: .system))
        let r = try store.addRatingAndWait(early)
        #expect(r.subjectID == "3")
        expectStorageError(.alreadyRated) {
            try store.addRatingAndWait(NewRating(orderID: id, direction: .customerToCourier, raterID: "7", stars: 1))
        }
        expectStorageError(.forbidden) {   // wrong rater
            try store.addRatingAndWait(NewRating(orderID: id, direction: .courierToCustomer, raterID: "99", stars: 4))
        }
        #expect(throws: StorageError.self) {   // bad stars
            try store.addRatingAndWait(NewRating(orderID: id, direction: .courierToCustomer, raterID: "3", stars: 6))
        }
        #expect(throws: StorageError.self) {   // comment too long
            try store.addRatingAndWait(NewRating(orderID: id, direction: .courierToCustomer, raterID: "3", stars: 4,
                                                 comment: String(repeating: "é", count: 501)))
        }
        _ = try store.addRatingAndWait(NewRating(orderID: id, direction: .courierToCustomer, raterID: "3", stars: 4,
                                                 comment: String(repeating: "é", count: 500)))
        #expect(try store.ratings(of: id).count == 2)
        #expect(try store.ratingTotals(kind: .courier) == [RatingTotals(kind: .courier, subjectID: "3", count: 1, starsSum: 5)])
        #expect(try store.ratingTotals(kind: .customer) == [RatingTotals(kind: .customer, subjectID: "7", count: 1, starsSum: 4)])
    }

    @Test("webhook deliveries move pending → dead with a dead-letter row, or pending → delivered", arguments: StoreKind.testable)
    func webhookRows(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let a = try SQLiteStore.wait { store.enqueueWebhook(endpoint: "http://127.0.0.1:1/h", event: "order.created", body: [1, 2, 3], completion: $0) }
        let b = try SQLiteStore.wait { store.enqueueWebhook(endpoint: "http://127.0.0.1:1/h", event: "order.created", body: [4], completion: $0) }
        #expect(try store.pendingWebhooks().map(\.id) == [a, b])
        try SQLiteStore.wait { store.recordWebhookAttempt(a, attempts: 3, outcome: .dead, error: "HTTP 500", completion: $0) }
        try SQLiteStore.wait { store.recordWebhookAttempt(b, attempts: 1, outcome: .delivered, error: nil, completion: $0) }
        #expect(try store.pendingWebhooks().isEmpty)
        let dead = try store.deadLetters(limit: 10)
        #expect(dead.count == 1)
        #expect(dead.first?.deliveryID == a && dead.first?.body == [1, 2, 3] && dead.first?.attempts == 3)
        #expect(try store.webhookDelivery(b)?.state == .delivered)
        #expect(throws: StorageError.self) {
            try SQLiteStore.wait { store.recordWebhookAttempt(WebhookDeliveryID(77), attempts: 1, outcome: .delivered, error: nil, completion: $0) }
        }
    }
}

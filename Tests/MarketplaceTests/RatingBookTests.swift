import Foundation
import Storage
import Testing
@testable import Marketplace
import Vocabulary

@Suite("Ratings")
struct RatingBookTests {
    func delivered(_ m: Market, courier: UInt64 = 3) throws -> OrderID {
        let o = try m.order()
        let c = ActorRef(.courier, courier)
        _ = try waitFor { m.book.dispatch(o.id, to: CourierID(courier), completion: $0) }
        _ = try waitFor { m.book.accept(o.id, by: c, completion: $0) }
        _ = try waitFor { m.book.pickUp(o.id, by: c, completion: $0) }
        _ = try waitFor { m.book.deliver(o.id, by: c, completion: $0) }
        return o.id
    }

    @Test("the Bayesian average is (C·m + Σ) / (C + n) with C = 5, m = 4.5")
    func bayesian() throws {
        let m = try Market()
        defer { m.close() }
        let ratings = try RatingBook(store: m.store, notifier: nil)
        #expect(ratings.bayesianAverage(count: 0, starsSum: 0) == 4.5)
        #expect(abs(ratings.bayesianAverage(count: 1, starsSum: 1) - 23.5 / 6) < 1e-12)
        #expect(abs(ratings.bayesianAverage(count: 1000, starsSum: 3000) - (22.5 + 3000) / 1005) < 1e-12)
        #expect(ratings.courierScore(CourierID(12345)) == 4.5)
    }

    @Test("each side rates once per delivered order; scores update, persist and reload")
    func rateOnce() throws {
        let m = try Market()
        defer { m.close() }
        let ratings = try RatingBook(store: m.store, notifier: m.notifier)
        let a = try delivered(m)
        let b = try delivered(m)
        let r = try waitFor { ratings.rate(a, by: ActorRef(.customer, 7), stars: 1, comment: "late", completion: $0) }
        #expect(r.subjectID == "3" && r.direction == .customerToCourier)
        expectCode("already_rated") { try waitFor { ratings.rate(a, by: ActorRef(.customer, 7), stars: 5, comment: nil, completion: $0) } }
        _ = try waitFor { ratings.rate(b, by: ActorRef(.customer, 7), stars: 4, comment: nil, completion: $0) }
        _ = try waitFor { ratings.rate(a, by: ActorRef(.courier, 3), stars: 5, comment: nil, completion: $0) }
        expectCode("forbidden") { try waitFor { ratings.rate(b, by: ActorRef(.courier, 4), stars: 5, comment: nil, completion: $0) } }
        expectCode("forbidden") { try waitFor { ratings.rate(b, by: ActorRef(.admin, 1), stars: 5, comment: nil, completion: $0) } }
        expectCode("invalid_input") { try waitFor { ratings.rate(b, by: ActorRef(.courier, 3), stars: 0, comment: nil, completion: $0) } }
        expectCode("invalid_input") {
            try waitFor { ratings.rate(b, by: ActorRef(.courier, 3), stars: 3, comment: String(repeating: "x", count: 501), completion: $0) }
        }
        let expected = (5 * 4.5 + 5) / 7
        #expect(abs(ratings.courierScore(CourierID(3)) - expected) < 1e-12)
        #expect(ratings.summary(.courier, "3").count == 2 && ratings.summary(.courier, "3").mean == 2.5)
        #expect(abs(ratings.customerScore(CustomerID(7)) - (22.5 + 5) / 6) < 1e-12)
        let undelivered = try m.order()
        expectCode("rating_not_allowed") {
            try waitFor { ratings.rate(undelivered.id, by: ActorRef(.customer, 7), stars: 5, comment: nil, completion: $0) }
        }
        // A new book (a restart) reads the same totals back from the file.
        let again = try RatingBook(store: m.store, notifier: nil)
        #expect(abs(again.courierScore(CourierID(3)) - expected) < 1e-12)
        m.notifier.drain()
        #expect(m.sink.events.filter { $0 == "rating.received" }.count == 3)
    }
}

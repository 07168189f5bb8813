import Testing
import TestSupport
@testable import Dispatcher
import Vocabulary

@Suite("Offer book")
struct OfferBookTests {
    static let here = LatLng(degrees: 43.73, 7.42)
    static func order(_ id: UInt64, at ms: Int64 = 0) -> WaitingOrder {
        WaitingOrder(id: OrderID(id), pickup: here, createdAtMs: ms)
    }

    @Test("an accepted offer assigns the order and makes the courier busy")
    func acceptAssigns() throws {
        let book = try OfferBook()
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 1_000)
        try book.accept(order: OrderID(1), courier: CourierID(7), nowMs: 5_000)
        #expect(book.assignedOrders == [OrderID(1): CourierID(7)])
        #expect(book.openOffers.isEmpty)
        #expect(book.busyCouriers == [CourierID(7)])
        let events = book.drainEvents()
        #expect(events.count == 2)
        #expect(events.last == .accepted(order: OrderID(1), courier: CourierID(7), atMs: 5_000))
        #expect(throws: OfferError.courierBusy(CourierID(7))) { try book.offer(Self.order(2), to: CourierID(7), nowMs: 6_000) }
        #expect(throws: OfferError.orderAlreadyAssigned(OrderID(1))) { try book.offer(Self.order(1), to: CourierID(8), nowMs: 6_000) }
        #expect(book.releaseCourier(CourierID(7)) == OrderID(1))
        try book.offer(Self.order(2), to: CourierID(7), nowMs: 7_000)
        book.checkInvariants()
    }

    @Test("with stacking a courier holds several accepted orders and is free once the last is completed; still one open offer")
    func stackingHoldsSeveral() throws {
        let book = try OfferBook(stacking: true)
        let c = CourierID(7)
        for id in 1...3 as ClosedRange<UInt64> {
            try book.offer(Self.order(id), to: c, nowMs: 1_000)
            #expect(throws: OfferError.courierHasOpenOffer(c)) { try book.offer(Self.order(id + 10), to: c, nowMs: 1_000) }
            #expect(book.busyCouriers == [c], "holding an open offer")
            try book.accept(order: OrderID(id), courier: c, nowMs: 2_000)
            #expect(book.busyCouriers.isEmpty, "accepted orders leave room for the next offer")
            book.checkInvariants()
        }
        #expect(book.acceptedOrders(of: c) == [OrderID(1), OrderID(2), OrderID(3)])
        book.completeOrder(OrderID(2))
        #expect(book.acceptedOrders(of: c) == [OrderID(1), OrderID(3)])
        #expect(book.assignedOrders[OrderID(1)] == c && book.assignedOrders[OrderID(2)] == nil)
        book.completeOrder(OrderID(1)); book.completeOrder(OrderID(3))
        #expect(book.acceptedOrders(of: c).isEmpty && book.assignedOrders.isEmpty)
        book.checkInvariants()
        // Without stacking the same second offer is refused.
        let single = try OfferBook()
        try single.offer(Self.order(1), to: c, nowMs: 0)
        try single.accept(order: OrderID(1), courier: c, nowMs: 1)
        #expect(throws: OfferError.courierBusy(c)) { try single.offer(Self.order(2), to: c, nowMs: 2) }
    }

    @Test("a decline returns the order to the queue and excludes that courier for good")
    func declineExcludes() throws {
        let book = try OfferBook()
        try book.offer(Self.order(1, at: 10), to: CourierID(7), nowMs: 1_000)
        try book.decline(order: OrderID(1), courier: CourierID(7), nowMs: 2_000)
        #expect(book.drainEvents().suffix(2) == [
            .declined(order: OrderID(1), courier: CourierID(7), atMs: 2_000), .returnedToQueue(Self.order(1, at: 10)),
        ])
        #expect(book.excludedPairs.contains(OfferPair(order: OrderID(1), courier: CourierID(7))))
        let pair = OfferPair(order: OrderID(1), courier: CourierID(7))
        #expect(throws: OfferError.pairExcluded(pair)) { try book.offer(Self.order(1), to: CourierID(7), nowMs: 3_000) }
        try book.offer(Self.order(1), to: CourierID(8), nowMs: 3_000)   // another courier may get it
        #expect(book.openOffers[OrderID(1)]?.courier == CourierID(8))
    }

    @Test("an offer expires at its deadline (default 15 s), not before")
    func timeout() throws {
        let book = try OfferBook()
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 1_000)
        #expect(book.nextDeadlineMs == 16_000)
        #expect(book.expire(nowMs: 15_999) == 0)
        #expect(book.expire(nowMs: 16_000) == 1)
        #expect(book.drainEvents().suffix(2) == [
            .expired(order: OrderID(1), courier: CourierID(7), atMs: 16_000), .returnedToQueue(Self.order(1)),
        ])
        #expect(book.busyCouriers.isEmpty)
        #expect(throws: OfferError.self) { try book.offer(Self.order(1), to: CourierID(7), nowMs: 17_000) }
    }

    @Test("a late accept expires the offer instead of assigning")
    func lateAccept() throws {
        let book = try OfferBook(timeoutMs: 1_000)
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 0)
        let pair = OfferPair(order: OrderID(1), courier: CourierID(7))
        #expect(throws: OfferError.offerExpired(pair)) { try book.accept(order: OrderID(1), courier: CourierID(7), nowMs: 1_000) }
        #expect(book.assignedOrders.isEmpty)
        #expect(book.drainEvents().contains(.returnedToQueue(Self.order(1))))
    }

    @Test("a courier holds one open offer and an order has one")
    func oneOpenOfferEach() throws {
        let book = try OfferBook()
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 0)
        #expect(throws: OfferError.courierHasOpenOffer(CourierID(7))) { try book.offer(Self.order(2), to: CourierID(7), nowMs: 0) }
        #expect(throws: OfferError.orderHasOpenOffer(OrderID(1))) { try book.offer(Self.order(1), to: CourierID(8), nowMs: 0) }
        #expect(throws: OfferError.noOpenOffer(OfferPair(order: OrderID(1), courier: CourierID(8)))) {
            try book.accept(order: OrderID(1), courier: CourierID(8), nowMs: 1)
        }
        #expect(throws: OfferError.invalidTimeout(0)) { try OfferBook(timeoutMs: 0) }
    }

    @Test("withdrawing for a cancelled order or a vanished courier frees both without excluding the pair")
    func withdraw() throws {
        let book = try OfferBook()
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 0)
        #expect(book.withdraw(order: OrderID(1), nowMs: 5))
        #expect(book.openOffers.isEmpty && book.excludedPairs.isEmpty)
        try book.offer(Self.order(1), to: CourierID(7), nowMs: 10)
        #expect(book.withdraw(courier: CourierID(7), nowMs: 20))
        #expect(book.drainEvents().last == .returnedToQueue(Self.order(1)))
        #expect(!book.withdraw(courier: CourierID(7), nowMs: 30))
    }

    /// Randomized interleavings: dispatch, accept, decline, expire, release, in any order.
    /// Dictionary contents are sorted before picking, so a seed replays exactly.
    @Test("no order or courier is ever assigned twice under random interleavings", arguments: UInt64(1)...UInt64(40))
    func randomInterleavings(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let book = try OfferBook(timeoutMs: 15_000)
        let nOrders = Int.random(in: 5...40, using: &rng), nCouriers = Int.random(in: 2...12, using: &rng)
        var queue = FIFOWaitingOrders((0..<nOrders).map { Self.order(UInt64($0), at: Int64($0)) })
        var now: Int64 = 0
        var acceptedCount: [OrderID: Int] = [:]
        var everOffered: Set<OfferPair> = []
        var declinedOrExpired: Set<OfferPair> = []
        var activeCourierOrder: [CourierID: OrderID] = [:]
        for step in 0..<400 {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:   // offer a waiting order to a random courier
                guard let o = queue.waiting.randomElement(using: &rng) else { break }
                let c = CourierID(UInt64.random(in: 0..<UInt64(nCouriers), using: &rng))
                let pair = OfferPair(order: o.id, courier: c)
                do {
                    try book.offer(o, to: c, nowMs: now)
                    #expect(!declinedOrExpired.contains(pair), "seed \(seed) step \(step): re-offered a declined pair")
                    _ = queue.remove(o.id)
                    everOffered.insert(pair)
                } catch {
                    #expect(book.openOffers[o.id] == nil || error == .orderHasOpenOffer(o.id), "seed \(seed): \(error)")
                }
            case 2:   // accept a random open offer (sometimes late, sometimes the wrong courier)
                guard let offer = book.openOffers.values.sorted(by: { $0.order.id < $1.order.id }).randomElement(using: &rng) else { break }
                let wrong = Int.random(in: 0..<5, using: &rng) == 0
                let courier = wrong ? CourierID(UInt64(nCouriers) + 1) : offer.courier
                try? book.accept(order: offer.order.id, courier: courier, nowMs: now)
            case 3:   // decline a random open offer
                guard let offer = book.openOffers.values.sorted(by: { $0.order.id < $1.order.id }).randomElement(using: &rng) else { break }
                try? book.decline(order: offer.order.id, courier: offer.courier, nowMs: now)
            case 4:   // time passes; the loop's timer fires
                now += Int64.random(in: 0...8_000, using: &rng)
                book.expire(nowMs: now)
            default:   // a busy courier delivers
                if let c = activeCourierOrder.keys.sorted().randomElement(using: &rng) {
                    #expect(book.releaseCourier(c) == activeCourierOrder[c])
                    activeCourierOrder[c] = nil
                }
            }
            for event in book.drainEvents() {
                switch event {
                case .accepted(let o, let c, _):
                    acceptedCount[o, default: 0] += 1
                    #expect(activeCourierOrder[c] == nil, "seed \(seed) step \(step): \(c) accepted two orders")
                    activeCourierOrder[c] = o
                case .declined(let o, let c, _), .expired(let o, let c, _):
                    declinedOrExpired.insert(OfferPair(order: o, courier: c))
                case .returnedToQueue(let o):
                    queue.requeue(o)
                case .offered, .withdrawn:
                    break
                }
            }
            book.checkInvariants()
            // Every order is in exactly one place: waiting, offered, or accepted.
            let waiting = Set(queue.waiting.map(\.id)), offered = Set(book.openOffers.keys)
            let accepted = Set(acceptedCount.keys)
            #expect(waiting.isDisjoint(with: offered) && waiting.isDisjoint(with: accepted) && offered.isDisjoint(with: accepted),
                    "seed \(seed) step \(step): an order is in two places")
            #expect(waiting.count + offered.count + accepted.count == nOrders, "seed \(seed) step \(step): an order was lost")
        }
        #expect(acceptedCount.values.allSatisfy { $0 == 1 }, "seed \(seed): an order was accepted twice")
        #expect(!acceptedCount.isEmpty && !declinedOrExpired.isEmpty, "seed \(seed): the walk never accepted or declined")
    }
}

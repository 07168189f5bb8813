import Dispatcher
import HTTPServer
import Marketplace
import Storage
import Vocabulary

extension OrdersService {
    /// Follows dispatch's offer events with order transitions: offered → dispatched (courier assigned),
    /// accepted → accepted, declined/expired/withdrawn → back to quoted (dispatch re-queues the order itself).
    /// The loop's view moves at once, so an answer arriving before the commit finds the right status; the store
    /// serializes the writes in the order they were asked for, and commits that trail them leave the view alone
    /// until the last one lands (`LiveOrder.dispatchWritesInFlight`).
    func offerEvent(_ event: OfferEvent) {
        switch event {
        case .offered(let offer):
            let id = offer.order.id
            // Orders this module does not hold (queued by tests or tools directly) are dispatch's alone.
            guard live[id]?.status == .quoted else { return }
            live[id]?.status = .dispatched
            live[id]?.courier = offer.courier
            if let eta = dispatch.pickupETASeconds(of: id) { etaAccuracy.offered(id, atMs: offer.offeredAtMs, pickupETASeconds: eta) }
            book.dispatch(id, to: offer.courier, completion: followingDispatch(id))
            notifier.publish(.offerSent(orderID: id, courierID: offer.courier, expiresAtMs: offer.expiresAtMs))
        case .accepted(let order, let courier, _):
            guard live[order]?.status == .dispatched else { return }
            live[order]?.status = .accepted
            book.accept(order, by: ActorRef(.courier, courier.rawValue), completion: answerWrite(order))
        case .declined(let order, let courier, _):
            guard backToQuoted(order) else { return }
            book.decline(order, by: ActorRef(.courier, courier.rawValue), completion: answerWrite(order))
        case .expired(let order, let courier, _):
            notifier.publish(.offerExpired(orderID: order, courierID: courier))
            guard backToQuoted(order) else { return }
            book.decline(order, by: .system, reason: "offer_timeout", completion: followingDispatch(order))
        case .withdrawn(let order, _, _):
            guard backToQuoted(order) else { return }
            book.decline(order, by: .system, reason: "offer_withdrawn", completion: followingDispatch(order))
        case .returnedToQueue:
            break
        }
    }

    /// The completion of a write that follows an offer event, counted in flight on the live order: until the last
    /// of them commits, a committed record is older than the loop's view and must not overwrite it (else an accept
    /// arriving meanwhile finds a stale status and is never written).
    private func followingDispatch(_ id: OrderID) -> @Sendable (Result<OrderRecord, MarketplaceError>) -> Void {
        live[id]?.dispatchWritesInFlight += 1
        return changed(0, then: .followsDispatch(order: id))
    }

    /// The completion of the write of a courier's answer: as `followingDispatch`, and then the answer's reply, which
    /// dispatch holds until this write is done (`whenAnswerWritten`), so a courier is never told "accepted" for an
    /// order the store does not give it (its dispatch refused, or this engine gone before the write).
    private func answerWrite(_ id: OrderID) -> @Sendable (Result<OrderRecord, MarketplaceError>) -> Void {
        answerWritesAsked &+= 1
        let write = answerWritesAsked
        latestAnswerWrite[id] = write
        let written = followingDispatch(id)
        let mailbox = self.mailbox
        return { result in
            written(result)
            let refusal: MarketplaceError? = if case .failure(let error) = result { error } else { nil }
            _ = mailbox.send(.answerWritten(id, write: write, refusal))
        }
    }

    /// Holds `reply` until the latest answer write of `id` is done; false when none is in flight.
    func whenAnswerWritten(_ id: OrderID, _ reply: @escaping (APIError?) -> Void) -> Bool {
        guard let write = latestAnswerWrite[id] else { return false }
        answerReplies[write, default: []].append(reply)
        return true
    }

    /// An answer write finished: its held replies go out, with the store's refusal if there was one.
    func answerWritten(_ id: OrderID, write: UInt64, _ refusal: MarketplaceError?) {
        if latestAnswerWrite[id] == write { latestAnswerWrite[id] = nil }
        for reply in answerReplies.removeValue(forKey: write) ?? [] { reply(refusal.map { OrderAPIErrors.apiError($0) }) }
    }

    /// Moves the loop's view of a dispatched order back to quoted; false when it is not dispatched (cancelled,
    /// already accepted), so no write is asked for.
    private func backToQuoted(_ id: OrderID) -> Bool {
        guard live[id]?.status == .dispatched else { return false }
        live[id]?.status = .quoted
        live[id]?.courier = nil
        return true
    }
}

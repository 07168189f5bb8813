import Vocabulary

/// Why an offer operation was refused. A refused operation changes nothing, except
/// `offerExpired`, which first expires the late offer (its events are in the book).
public enum OfferError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The order already has an open offer.
    case orderHasOpenOffer(OrderID)
    /// The courier already holds an open offer.
    case courierHasOpenOffer(CourierID)
    /// The courier is busy with an accepted order.
    case courierBusy(CourierID)
    /// The order was already accepted by a courier.
    case orderAlreadyAssigned(OrderID)
    /// This courier declined (or let expire) this order before.
    case pairExcluded(OfferPair)
    /// No open offer of this order to this courier.
    case noOpenOffer(OfferPair)
    /// The answer came after the deadline; the offer has now expired.
    case offerExpired(OfferPair)
    /// The timeout is not positive.
    case invalidTimeout(Int64)

    public var description: String {
        switch self {
        case .orderHasOpenOffer(let o): "\(o) already has an open offer"
        case .courierHasOpenOffer(let c): "\(c) already holds an open offer"
        case .courierBusy(let c): "\(c) is busy with an accepted order"
        case .orderAlreadyAssigned(let o): "\(o) is already assigned"
        case .pairExcluded(let p): "\(p.courier) declined \(p.order) before"
        case .noOpenOffer(let p): "no open offer of \(p.order) to \(p.courier)"
        case .offerExpired(let p): "the offer of \(p.order) to \(p.courier) expired"
        case .invalidTimeout(let t): "offer timeout \(t) ms is not positive"
        }
    }
}

import Marketplace
import Storage
import Vocabulary

/// What the storage writer and notifier threads hand back to the loop, as values (the orders mailbox).
///
/// `ticket` names the waiting HTTP responder (0: nobody waits, e.g. a transition dispatch asked for).
enum OrderMail: Sendable {
    /// A create committed (or failed).
    case created(ticket: UInt64, Result<CreateOrderOutcome, MarketplaceError>)
    /// A status change committed (or failed); `then` is loop work to do after a success.
    case changed(ticket: UInt64, Result<OrderRecord, MarketplaceError>, then: OrderFollowUp)
    /// The write of a courier's answer to an offer committed (or failed): the answer's held reply goes out.
    case answerWritten(OrderID, write: UInt64, MarketplaceError?)
    /// A rating committed (or failed).
    case rated(ticket: UInt64, Result<RatingRecord, MarketplaceError>)
    /// A notification for a connected customer or courier (from the WebSocket push sink), with the order its
    /// payload names (read on the notifier thread, not the loop).
    case push(text: String, to: Recipient, order: OrderID?)
}

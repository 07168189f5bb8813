import EventLoop
import Marketplace

/// The WebSocket push sink's transport: the notifier thread posts the text to the orders mailbox, and the
/// loop sends it to the courier's driver channel or to the watchers of the customer's live orders.
struct OrderPushTransport: WebSocketPushTransport {
    let mailbox: AsyncSender<OrderMail>

    func push(text: String, to recipient: Recipient) {
        _ = mailbox.send(.push(text: text, to: recipient))
    }
}

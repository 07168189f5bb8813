import EventLoop
import HTTPServer
import JSON
import Marketplace
import Vocabulary

/// The WebSocket push sink's transport: the notifier thread reads the order a customer's notification names and
/// posts both to the orders mailbox; the loop sends the text to the courier's driver channel or to the watchers
/// of that order.
struct OrderPushTransport: WebSocketPushTransport {
    let mailbox: AsyncSender<OrderMail>

    func push(text: String, to recipient: Recipient) {
        var order: OrderID?
        if case .customer = recipient {
            order = (try? JSONReader.parse(text))?["payload"]?["order_id"]?.uint64.map { OrderID($0) }
        }
        _ = mailbox.send(.push(text: text, to: recipient, order: order))
    }
}

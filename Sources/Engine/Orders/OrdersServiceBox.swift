/// Lets the orders mailbox's handler reach the service, which is built after the mailbox.
final class OrdersServiceBox {
    weak var service: OrdersService?
}

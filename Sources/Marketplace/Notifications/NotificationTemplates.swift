import Storage
import Vocabulary

/// Title and text per event name, with `{placeholder}`s filled from the event.
///
/// Placeholders: `{order_id}`, `{status}`, `{from}`, `{courier_id}`, `{customer_id}`, `{price}`
/// (e.g. `12.34 EUR`), `{stars}`. Unknown placeholders stay as written.
public struct NotificationTemplates: Sendable {
    /// A title and a text.
    public struct Template: Sendable, Equatable {
        /// The title, with placeholders.
        public var title: String
        /// The text, with placeholders.
        public var text: String
        /// A template.
        public init(title: String, text: String) {
            self.title = title
            self.text = text
        }
    }

    /// Templates by event name.
    public var byEvent: [String: Template]

    /// Templates; events without one render with the event name as title and empty text.
    public init(_ byEvent: [String: Template] = NotificationTemplates.defaults) { self.byEvent = byEvent }

    /// The built-in English templates.
    public static let defaults: [String: Template] = [
        "order.created": Template(title: "Order {order_id} received", text: "Your order {order_id} is booked for {price}."),
        "order.status_changed": Template(title: "Order {order_id}: {status}", text: "Order {order_id} went from {from} to {status}."),
        "offer.sent": Template(title: "New offer", text: "Order {order_id} is offered to you."),
        "offer.expired": Template(title: "Offer expired", text: "The offer for order {order_id} expired."),
        "rating.received": Template(title: "New rating", text: "You were rated {stars} stars for order {order_id}."),
        "fence.enter": Template(title: "Fence {fence}", text: "Driver {driver_id} entered fence {fence}."),
        "fence.exit": Template(title: "Fence {fence}", text: "Driver {driver_id} left fence {fence}."),
        "fence.cross": Template(title: "Fence {fence}", text: "Driver {driver_id} crossed fence {fence}."),
        "order.arrived_pickup": Template(title: "Courier at pick-up", text: "The courier of order {order_id} is at the pick-up."),
        "order.arrived_dropoff": Template(title: "Your courier is at the door", text: "The courier of order {order_id} has arrived."),
    ]

    /// Renders an event into a notification with its recipients and JSON payload.
    public func render(_ event: NotificationEvent) -> OutboundNotification {
        var values: [String: String] = [:]
        var recipients: [Recipient] = [.operators]
        var orderID: OrderID?
        switch event {
        case .orderCreated(let o):
            orderID = o.id
            values = ["order_id": "\(o.id)", "status": o.status.rawValue, "customer_id": "\(o.customerID)",
                      "price": Self.money(o.priceCents, o.currency)]
            recipients.append(.customer(o.customerID))
        case .orderStatusChanged(let o, let from):
            orderID = o.id
            values = ["order_id": "\(o.id)", "status": o.status.rawValue, "from": from.rawValue,
                      "customer_id": "\(o.customerID)", "courier_id": o.courierID.map { "\($0)" } ?? "",
                      "price": Self.money(o.priceCents, o.currency)]
            recipients.append(.customer(o.customerID))
            if let c = o.courierID { recipients.append(.courier(c)) }
        case .offerSent(let order, let courier, _), .offerExpired(let order, let courier):
            orderID = order
            values = ["order_id": "\(order)", "courier_id": "\(courier)"]
            recipients.append(.courier(courier))
        case .ratingReceived(let r):
            orderID = r.orderID
            values = ["order_id": "\(r.orderID)", "stars": "\(r.stars)"]
            switch r.direction {
            case .customerToCourier: if let courier = UInt64(r.subjectID) { recipients.append(.courier(CourierID(courier))) }
            case .courierToCustomer: if let customer = CustomerID(rawValue: r.subjectID) { recipients.append(.customer(customer)) }
            }
        case .fence(let fence, let driver, _, _, _, _):
            values = ["fence": fence, "driver_id": "\(driver)"]
        case .orderArrived(let order, let courier, let customer, _, _):
            orderID = order
            values = ["order_id": "\(order)", "courier_id": "\(courier)", "customer_id": "\(customer)"]
            recipients.append(.customer(customer))
        }
        let template = byEvent[event.name] ?? Template(title: event.name, text: "")
        return OutboundNotification(event: event.name, recipients: recipients, title: Self.fill(template.title, values),
                            text: Self.fill(template.text, values), payload: NotificationPayload(event).encoded(),
                            orderID: orderID)
    }

    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = template
        for (k, v) in values { out = out.replacingOccurrences(of: "{\(k)}", with: v) }
        return out
    }

    static func money(_ cents: Int64, _ currency: String) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        let frac = a % 100
        return "\(sign)\(a / 100).\(frac < 10 ? "0" : "")\(frac) \(currency)"
    }
}

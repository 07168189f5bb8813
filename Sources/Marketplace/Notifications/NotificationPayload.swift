import Foundation
import Storage

/// The JSON body of a notification; nil fields are left out. Keys are the wire's snake_case.
struct NotificationPayload: Encodable {
    var event: String
    var orderID: UInt64?
    var status: String?
    var from: String?
    var customerID: UInt64?
    var courierID: UInt64?
    var priceCents: Int64?
    var currency: String?
    var stars: Int?
    var direction: String?
    var expiresAtMs: Int64?
    var atMs: Int64?

    enum CodingKeys: String, CodingKey {
        case event, orderID = "order_id", status, from, customerID = "customer_id", courierID = "courier_id"
        case priceCents = "price_cents", currency, stars, direction, expiresAtMs = "expires_at_ms", atMs = "at_ms"
    }

    init(_ event: NotificationEvent) {
        self.event = event.name
        switch event {
        case .orderCreated(let o):
            orderID = o.id.rawValue; status = o.status.rawValue; customerID = o.customerID.rawValue
            priceCents = o.priceCents; currency = o.currency; atMs = o.createdAtMs
        case .orderStatusChanged(let o, let f):
            orderID = o.id.rawValue; status = o.status.rawValue; from = f.rawValue
            customerID = o.customerID.rawValue; courierID = o.courierID?.rawValue; atMs = o.updatedAtMs
        case .offerSent(let order, let courier, let expires):
            orderID = order.rawValue; courierID = courier.rawValue; expiresAtMs = expires
        case .offerExpired(let order, let courier):
            orderID = order.rawValue; courierID = courier.rawValue
        case .ratingReceived(let r):
            orderID = r.orderID.rawValue; stars = r.stars; direction = r.direction.rawValue; atMs = r.createdAtMs
        }
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain integers and strings cannot fail; an empty object is the safe fallback.
        return (try? [UInt8](encoder.encode(self))) ?? Array("{}".utf8)
    }
}

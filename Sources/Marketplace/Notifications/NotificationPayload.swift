import JSON
import Storage

/// The JSON body of a notification; nil fields are left out. Keys are the wire's snake_case, in sorted order.
struct NotificationPayload {
    var event: String
    var orderID: UInt64?
    var status: String?
    var from: String?
    var customerID: String?
    var courierID: UInt64?
    var priceCents: Int64?
    var currency: String?
    var stars: Int?
    var direction: String?
    var expiresAtMs: Int64?
    var atMs: Int64?
    var fence: String?
    var driverID: UInt64?
    var lat: Double?
    var lng: Double?

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
        case .fence(let f, let driver, _, let at, let la, let lo):
            fence = f; driverID = driver.rawValue; atMs = at; lat = la; lng = lo
        case .orderArrived(let order, let courier, let customer, _, let at):
            orderID = order.rawValue; courierID = courier.rawValue; customerID = customer.rawValue; atMs = at
        }
    }

    /// The payload's bytes, the ones a webhook signs. Keys are in sorted order because that is how payloads have
    /// always looked on the wire (JSONEncoder's `.sortedKeys` once wrote them): receivers may compare bytes.
    func encoded() -> [UInt8] {
        var w = JSONWriter(capacity: 192)
        w.beginObject()
        if let atMs { w.key("at_ms"); w.number(atMs) }
        if let courierID { w.key("courier_id"); w.number(courierID) }
        if let currency { w.key("currency"); w.string(currency) }
        if let customerID { w.key("customer_id"); w.string(customerID) }
        if let direction { w.key("direction"); w.string(direction) }
        if let driverID { w.key("driver_id"); w.number(driverID) }
        w.key("event"); w.string(event)
        if let expiresAtMs { w.key("expires_at_ms"); w.number(expiresAtMs) }
        if let fence { w.key("fence"); w.string(fence) }
        if let from { w.key("from"); w.string(from) }
        if let lat { w.key("lat"); w.number(lat) }
        if let lng { w.key("lng"); w.number(lng) }
        if let orderID { w.key("order_id"); w.number(orderID) }
        if let priceCents { w.key("price_cents"); w.number(priceCents) }
        if let stars { w.key("stars"); w.number(stars) }
        if let status { w.key("status"); w.string(status) }
        w.endObject()
        return w.bytes
    }
}

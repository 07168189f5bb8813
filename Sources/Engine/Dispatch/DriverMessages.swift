import Dispatcher
import HTTPServer
import JSON
import Vocabulary

/// The one writer of each dispatch message a driver receives on its channel.
enum DriverMessages {
    /// `{"type":"offer","order","pickup":[lat,lng],"expires_at_ms"[,"pickup_eta_s"]}`.
    /// With stacking, `insertion` adds `"pickup_index"` and `"dropoff_index"`: where the order goes in the courier's
    /// current stops (`GET /v1/drivers/{id}/route`), pickup before stop `pickup_index`, drop-off before stop
    /// `dropoff_index` (equal: right after the pickup).
    static func offer(_ offer: Offer, pickupETASeconds: Double?, insertion: (Int, Int)? = nil) -> [UInt8] {
        var w = JSONWriter()
        writeOffer(&w, offer, pickupETASeconds: pickupETASeconds, insertion: insertion, typed: true)
        return w.bytes
    }

    /// An offer as an object; `typed` adds `"type":"offer"` (the pushed message; the poll endpoint lists bare offers).
    static func writeOffer(_ w: inout JSONWriter, _ offer: Offer, pickupETASeconds: Double?, insertion: (Int, Int)? = nil, typed: Bool) {
        w.beginObject()
        if typed { w.key("type"); w.string("offer") }
        w.key("order"); w.number(offer.order.id.rawValue)
        // Pickups came from E7 coordinates: print them as such, whatever the radians round trip did to the last bits.
        let pickup = E7Point(offer.order.pickup)
        w.key("pickup"); w.beginArray(); w.number(pickup.latDegrees); w.number(pickup.lngDegrees); w.endArray()
        w.key("expires_at_ms"); w.number(offer.expiresAtMs)
        if let pickupETASeconds { w.key("pickup_eta_s"); w.number(pickupETASeconds) }
        if let (i, j) = insertion { w.key("pickup_index"); w.number(i); w.key("dropoff_index"); w.number(j) }
        w.endObject()
    }

    /// `{"type":"offer_withdrawn"|"offer_expired","order"}`.
    static func offerClosed(_ type: String, order: OrderID) -> [UInt8] { typedOrder(type, order) }

    /// `{"type":"offer_accepted"|"offer_declined","order"}`: the reply to a driver's answer.
    static func offerAnswered(_ type: String, order: OrderID) -> [UInt8] { typedOrder(type, order) }

    /// `{"type":"vehicle_set","vehicle"}`: the reply to a courier's `{"op":"vehicle"}`.
    static func vehicleSet(name: String) -> [UInt8] {
        var w = JSONWriter(capacity: 48)
        w.beginObject()
        w.key("type"); w.string("vehicle_set")
        w.key("vehicle"); w.string(name)
        w.endObject()
        return w.bytes
    }

    private static func typedOrder(_ type: String, _ order: OrderID) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("type"); w.string(type)
        w.key("order"); w.number(order.rawValue)
        w.endObject()
        return w.bytes
    }
}

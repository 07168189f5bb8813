import Dispatcher
import JSON
import Vocabulary

/// The stream messages of events that are not in the store's outbox: offers (`hexfleet.offer.<event>`) and fence
/// transitions (`hexfleet.fence.<event>`), payloads as docs/events.md shows them. Each message id is made from what
/// identifies the event (never a counter), so a retry, or the same event seen twice, is stored once by the stream.
/// Loop-owned: it remembers when each open offer was made, to name the offer in the answer's event.
struct StreamEvents {
    /// The store's event id prefix (16 hex digits), shared with the order events' ids.
    let prefix: String
    /// When the open offer of each order was made.
    private var offeredAt: [OrderID: Int64] = [:]

    init(prefix: String) {
        self.prefix = prefix
    }

    /// The message of one offer event; nil for `returnedToQueue` (not an offer's event: the order's own events say it).
    mutating func message(for event: OfferEvent) -> JetStreamPublisher.Message? {
        switch event {
        case .offered(let offer):
            offeredAt[offer.order.id] = offer.offeredAtMs
            return offerMessage("sent", order: offer.order.id, courier: offer.courier, offeredAtMs: offer.offeredAtMs,
                                atMs: offer.offeredAtMs, expiresAtMs: offer.expiresAtMs)
        case .accepted(let order, let courier, let at): return answered("accepted", order, courier, at)
        case .declined(let order, let courier, let at): return answered("declined", order, courier, at)
        case .expired(let order, let courier, let at): return answered("expired", order, courier, at)
        case .withdrawn(let order, let courier, let at): return answered("withdrawn", order, courier, at)
        case .returnedToQueue: return nil
        }
    }

    private mutating func answered(_ name: String, _ order: OrderID, _ courier: CourierID, _ atMs: Int64) -> JetStreamPublisher.Message {
        let offered = offeredAt.removeValue(forKey: order) ?? atMs
        return offerMessage(name, order: order, courier: courier, offeredAtMs: offered, atMs: atMs, expiresAtMs: nil)
    }

    private func offerMessage(_ name: String, order: OrderID, courier: CourierID, offeredAtMs: Int64, atMs: Int64,
                              expiresAtMs: Int64?) -> JetStreamPublisher.Message {
        let offerID = "\(order.rawValue)-\(courier.rawValue)-\(offeredAtMs)"
        let messageID = "\(prefix)-offer-\(offerID)-\(name)"
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("at_ms"); w.number(atMs)
        w.key("courier_id"); w.number(courier.rawValue)
        w.key("event"); w.string("offer.\(name)")
        w.key("event_id"); w.string(messageID)
        if let expiresAtMs { w.key("expires_at_ms"); w.number(expiresAtMs) }
        w.key("offer_id"); w.string(offerID)
        w.key("offered_at_ms"); w.number(offeredAtMs)
        w.key("order_id"); w.number(order.rawValue)
        w.endObject()
        return JetStreamPublisher.Message(subject: "hexfleet.offer.\(name)", messageID: messageID, payload: w.bytes)
    }

    /// The message of one fence event; nil for `inside` and `outside` (per-ping state, not transitions: they stay on
    /// the WebSocket and the fence's webhook).
    func message(for event: FenceEvent) -> JetStreamPublisher.Message? {
        guard event.kind == .enter || event.kind == .exit || event.kind == .cross else { return nil }
        // A driver's accepted pings have increasing timestamps, so fence, driver, time and kind name one event.
        let messageID = "\(prefix)-fence-\(Self.idToken(event.fence))-\(event.driver.rawValue)-\(event.timestampMs)-\(event.kind.name)"
        var w = JSONWriter(capacity: 224)
        w.beginObject()
        w.key("at_ms"); w.number(event.timestampMs)
        w.key("driver_id"); w.number(event.driver.rawValue)
        w.key("event"); w.string("fence.\(event.kind.name)")
        w.key("event_id"); w.string(messageID)
        w.key("fence"); w.string(event.fence)
        w.key("lat"); w.number(Double(event.latE7) / 1e7)
        w.key("lng"); w.number(Double(event.lngE7) / 1e7)
        w.endObject()
        return JetStreamPublisher.Message(subject: "hexfleet.fence.\(event.kind.name)", messageID: messageID, payload: w.bytes)
    }

    /// A fence id as header-safe text: letters, digits, `.`, `_`, `:` kept, every other byte `%XX`, so distinct ids
    /// stay distinct and no id can end the `Nats-Msg-Id` header line.
    static func idToken(_ id: String) -> String {
        var out = ""
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

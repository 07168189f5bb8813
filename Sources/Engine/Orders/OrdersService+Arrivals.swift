import JSON
import Marketplace
import Storage
import Vocabulary

/// Where a courier arrives: the order's pick-up or its drop-off.
enum ArrivalPlace: String, Sendable {
    case pickup, dropoff

    /// The order event's name (`arrived_pickup`, `arrived_dropoff`).
    var eventName: String { "arrived_\(rawValue)" }
}

/// A place an order's courier is on the way to.
struct ArrivalTarget: Hashable, Sendable {
    var order: OrderID
    var courier: CourierID
    var place: ArrivalPlace
    var point: E7Point
}

/// What the fence service asks of orders for arrivals: where assigned couriers are heading, and to record that one
/// got there. The orders service answers; nothing else of its state is reached.
protocol ArrivalDirectory: AnyObject {
    /// Every live order with an assigned courier and the place it is heading to: the pick-up while the order is
    /// accepted, the drop-off once picked up.
    func arrivalTargets() -> [ArrivalTarget]
    /// Records an arrival: an event in the order's log, a notification, and a message to the order's watchers.
    func courierArrived(_ target: ArrivalTarget, atMs: Int64, latE7: Int32, lngE7: Int32)
    /// Records that the courier strayed from the leg's planned route: an `off_route` event in the order's log and a
    /// message to the order's watchers.
    func courierOffRoute(_ target: ArrivalTarget, atMs: Int64, latE7: Int32, lngE7: Int32, distanceMeters: Double)
}

extension OrdersService: ArrivalDirectory {
    func arrivalTargets() -> [ArrivalTarget] {
        var out: [ArrivalTarget] = []
        for (id, o) in live {
            guard let courier = o.courier else { continue }
            switch o.status {
            case .accepted: out.append(ArrivalTarget(order: id, courier: courier, place: .pickup, point: o.pickup))
            case .pickedUp: out.append(ArrivalTarget(order: id, courier: courier, place: .dropoff, point: o.dropoff))
            default: break
            }
        }
        return out
    }

    func courierArrived(_ target: ArrivalTarget, atMs: Int64, latE7: Int32, lngE7: Int32) {
        guard let o = live[target.order] else { return }
        let customer = o.customer
        let logger = self.logger
        store.appendOrderNote(target.order, status: o.status, actor: ActorRef(.courier, target.courier.rawValue),
                              reason: target.place.eventName, atMs: atMs) { result in
            if case .failure(let error) = result {
                logger.warning("arrival not logged", metadata: ["order_id": "\(target.order)", "code": "\(error.code.name)"])
            }
        }
        notifier.publish(.orderArrived(orderID: target.order, courierID: target.courier, customerID: customer,
                                       place: target.place.rawValue, atMs: atMs))
        tellWatchers(target.order, orderEventJSON(target, target.place.eventName, atMs: atMs, latE7: latE7, lngE7: lngE7))
    }

    func courierOffRoute(_ target: ArrivalTarget, atMs: Int64, latE7: Int32, lngE7: Int32, distanceMeters: Double) {
        guard let o = live[target.order] else { return }
        let logger = self.logger
        store.appendOrderNote(target.order, status: o.status, actor: ActorRef(.courier, target.courier.rawValue),
                              reason: "off_route", atMs: atMs) { result in
            if case .failure(let error) = result {
                logger.warning("off_route not logged", metadata: ["order_id": "\(target.order)", "code": "\(error.code.name)"])
            }
        }
        tellWatchers(target.order, orderEventJSON(target, "off_route", atMs: atMs, latE7: latE7, lngE7: lngE7,
                                                  distanceMeters: distanceMeters))
    }

    /// `{"type":"order_event","order","event","courier","ts","lat","lng"[,"distance_m"]}` for the order's watchers.
    private func orderEventJSON(_ target: ArrivalTarget, _ event: String, atMs: Int64, latE7: Int32, lngE7: Int32,
                                distanceMeters: Double? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 180)
        w.beginObject()
        w.key("type"); w.string("order_event")
        w.key("order"); w.number(target.order.rawValue)
        w.key("event"); w.string(event)
        w.key("courier"); w.number(target.courier.rawValue)
        w.key("ts"); w.number(atMs)
        w.key("lat"); w.number(Double(latE7) / 1e7)
        w.key("lng"); w.number(Double(lngE7) / 1e7)
        if let distanceMeters { w.key("distance_m"); w.number((distanceMeters * 10).rounded() / 10) }
        w.endObject()
        return w.bytes
    }
}

import Dispatcher
import Foundation
import Histogram
import JSON

/// What a simulation run measured; `jsonLine` is the run's last line on stdout.
struct SimReport: Sendable {
    var mode = "offline"
    /// The policy's simulator name (`--policy`); nil online without `--policy`, where the engine dispatches with
    /// its own (the report says "engine").
    var policy: String?
    var seed: UInt64 = 0
    var drivers = 0
    var durationSeconds = 0.0
    var ordersPerMinute = 0.0
    var pingsSent: UInt64 = 0
    var pingsAccepted: UInt64 = 0
    var datagramsSent: UInt64 = 0
    var sendErrors: UInt64 = 0
    var ordersCreated = 0
    var ordersFailed = 0
    var ordersAssigned = 0
    var ordersDelivered = 0
    var ordersCancelled = 0
    var offersDeclined = 0
    /// Pickup ETA promised at assignment (the dispatch ETA), seconds.
    var pickupETAs: [Double] = []
    /// Actual minus dispatch-time predicted arrival at the pick-up and the drop-off, seconds, per delivered order.
    var etaErrors: (pickup: [Double], dropoff: [Double]) = ([], [])
    /// Creation to courier at the pick-up, seconds.
    var waits: [Double] = []
    /// Creation to accepted assignment, seconds.
    var assignDelays: [Double] = []
    /// Ping → index latency, microseconds (online runs).
    var latencyMicros = LatencyHistogram.make()
    var latencyProbesLost = 0
    /// The food scenario's figures (online `--scenario food`), appended to the line; nil for the city scenario.
    var food: FoodFigures?

    /// What an online food run measures beyond the city's fields, as the offline food report defines them.
    struct FoodFigures: Sendable {
        var cancelled = 0
        var late = 0
        /// Creation to drop-off arrival, and pickup service start to drop-off arrival, seconds per delivery.
        var deliverySeconds: [Double] = []
        var rideSeconds: [Double] = []
        /// Seconds couriers drove, and stood at restaurants waiting for the food.
        var travelSeconds = 0.0
        var restaurantWaitSeconds = 0.0
        /// Deliveries that shared the bag with another order.
        var stackedDeliveries = 0
        var offers = 0
        var capacityViolations = 0
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }

    /// The nearest-rank quantile of `xs` (0 when empty).
    static func quantile(_ xs: [Double], _ q: Double) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        let rank = max(1, Int((q * Double(s.count)).rounded(.up)))
        return s[min(s.count, rank) - 1]
    }

    /// Loss: sent pings the engine did not count as accepted (online only), 0…1.
    var loss: Double {
        guard pingsSent > 0 else { return 0 }
        return max(0, Double(pingsSent) - Double(pingsAccepted)) / Double(pingsSent)
    }

    /// One JSON object, keys in a fixed order, numbers rounded to 0.1 s / 1e-4, so equal runs print equal lines.
    var jsonLine: String {
        /// A number printed with fixed decimals (`12.0`, not `12`): the line's shape does not depend on the values.
        func fixed(_ x: Double, _ digits: Int) -> [UInt8] { Array(String(format: "%.\(digits)f", x).utf8) }
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("mode"); w.string(mode)
        w.key("policy"); w.string(policy ?? "engine")
        w.key("seed"); w.number(seed)
        w.key("drivers"); w.number(drivers)
        w.key("duration_s"); w.raw(fixed(durationSeconds, 1))
        w.key("orders_per_minute"); w.raw(fixed(ordersPerMinute, 1))
        w.key("pings_sent"); w.number(pingsSent)
        w.key("pings_accepted"); w.number(pingsAccepted)
        w.key("loss"); w.raw(fixed(loss, 4))
        w.key("orders_created"); w.number(ordersCreated)
        w.key("orders_assigned"); w.number(ordersAssigned)
        w.key("orders_delivered"); w.number(ordersDelivered)
        w.key("orders_cancelled"); w.number(ordersCancelled)
        w.key("offers_declined"); w.number(offersDeclined)
        w.key("mean_pickup_eta_s"); w.raw(fixed(Self.mean(pickupETAs), 1))
        w.key("p95_pickup_eta_s"); w.raw(fixed(Self.quantile(pickupETAs, 0.95), 1))
        w.key("mean_wait_s"); w.raw(fixed(Self.mean(waits), 1))
        w.key("p95_wait_s"); w.raw(fixed(Self.quantile(waits, 0.95), 1))
        w.key("mean_assign_delay_s"); w.raw(fixed(Self.mean(assignDelays), 1))
        if mode == "offline" { w.key("eta_error_s"); w.raw(Array("{\"pickup_mean\":\(String(format: "%.1f", Self.mean(etaErrors.pickup))),\"pickup_p95_abs\":\(String(format: "%.1f", Self.quantile(etaErrors.pickup.map(abs), 0.95))),\"dropoff_mean\":\(String(format: "%.1f", Self.mean(etaErrors.dropoff))),\"dropoff_p95_abs\":\(String(format: "%.1f", Self.quantile(etaErrors.dropoff.map(abs), 0.95)))}".utf8)) }
        if mode == "online" {
            w.key("datagrams_sent"); w.number(datagramsSent)
            w.key("send_errors"); w.number(sendErrors)
            w.key("orders_failed"); w.number(ordersFailed)
            w.key("latency_samples"); w.number(latencyMicros.totalCount)
            w.key("latency_probes_lost"); w.number(latencyProbesLost)
            w.key("latency_p50_ms"); w.raw(fixed(Double(latencyMicros.valueAtPercentile(50)) / 1000, 3))
            w.key("latency_p99_ms"); w.raw(fixed(Double(latencyMicros.valueAtPercentile(99)) / 1000, 3))
            w.key("latency_max_ms"); w.raw(fixed(Double(latencyMicros.totalCount == 0 ? 0 : latencyMicros.max) / 1000, 3))
        }
        if let f = food {
            let perDelivery = { (x: Double) in ordersDelivered > 0 ? x / Double(ordersDelivered) : 0 }
            w.key("scenario"); w.string("food")
            w.key("orders"); w.number(ordersCreated)
            w.key("delivered"); w.number(ordersDelivered)
            w.key("unserved"); w.number(ordersCreated - ordersDelivered)
            w.key("cancelled"); w.number(f.cancelled)
            w.key("late"); w.number(f.late)
            w.key("mean_delivery_s"); w.raw(fixed(Self.mean(f.deliverySeconds), 1))
            w.key("p90_delivery_s"); w.raw(fixed(Self.quantile(f.deliverySeconds, 0.9), 1))
            w.key("mean_ride_s"); w.raw(fixed(Self.mean(f.rideSeconds), 1))
            w.key("courier_travel_s_per_delivery"); w.raw(fixed(perDelivery(f.travelSeconds), 1))
            w.key("restaurant_wait_s_per_delivery"); w.raw(fixed(perDelivery(f.restaurantWaitSeconds), 1))
            w.key("stacked_share"); w.raw(fixed(ordersDelivered > 0 ? Double(f.stackedDeliveries) / Double(ordersDelivered) : 0, 4))
            w.key("offers"); w.number(f.offers)
            w.key("capacity_violations"); w.number(f.capacityViolations)
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

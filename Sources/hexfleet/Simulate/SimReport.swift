import Dispatcher
import Foundation
import Histogram

/// What a simulation run measured; `jsonLine` is the run's last line on stdout.
struct SimReport: Sendable {
    var mode = "offline"
    /// The offline run's policy; nil online, where the engine dispatches with its own (the report says "engine").
    var policy: DispatchPolicy?
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
    /// Creation to courier at the pick-up, seconds.
    var waits: [Double] = []
    /// Creation to accepted assignment, seconds.
    var assignDelays: [Double] = []
    /// Ping → index latency, microseconds (online runs).
    var latencyMicros = LatencyHistogram.make()
    var latencyProbesLost = 0

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
        func r1(_ x: Double) -> String { String(format: "%.1f", x) }
        func r4(_ x: Double) -> String { String(format: "%.4f", x) }
        var fields: [(String, String)] = [
            ("mode", "\"\(mode)\""), ("policy", "\"\(policy?.simulatorName ?? "engine")\""), ("seed", "\(seed)"), ("drivers", "\(drivers)"),
            ("duration_s", r1(durationSeconds)), ("orders_per_minute", r1(ordersPerMinute)),
            ("pings_sent", "\(pingsSent)"), ("pings_accepted", "\(pingsAccepted)"), ("loss", r4(loss)),
            ("orders_created", "\(ordersCreated)"), ("orders_assigned", "\(ordersAssigned)"),
            ("orders_delivered", "\(ordersDelivered)"), ("orders_cancelled", "\(ordersCancelled)"),
            ("offers_declined", "\(offersDeclined)"),
            ("mean_pickup_eta_s", r1(Self.mean(pickupETAs))), ("p95_pickup_eta_s", r1(Self.quantile(pickupETAs, 0.95))),
            ("mean_wait_s", r1(Self.mean(waits))), ("p95_wait_s", r1(Self.quantile(waits, 0.95))),
            ("mean_assign_delay_s", r1(Self.mean(assignDelays))),
        ]
        if mode == "online" {
            fields += [
                ("datagrams_sent", "\(datagramsSent)"), ("send_errors", "\(sendErrors)"), ("orders_failed", "\(ordersFailed)"),
                ("latency_samples", "\(latencyMicros.totalCount)"), ("latency_probes_lost", "\(latencyProbesLost)"),
                ("latency_p50_ms", String(format: "%.3f", Double(latencyMicros.valueAtPercentile(50)) / 1000)),
                ("latency_p99_ms", String(format: "%.3f", Double(latencyMicros.valueAtPercentile(99)) / 1000)),
                ("latency_max_ms", String(format: "%.3f", Double(latencyMicros.totalCount == 0 ? 0 : latencyMicros.max) / 1000)),
            ]
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

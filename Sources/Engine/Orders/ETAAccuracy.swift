import Prometheus
import Vocabulary

/// How far the ETAs given at dispatch were from what happened, per delivered order: `hexfleet_eta_error_seconds{leg}`,
/// actual minus predicted (positive: later than promised), for the pickup and the drop-off.
///
/// The prediction is the one of the offer the courier took: pickup at the offer's time plus its pickup ETA, drop-off
/// that plus the order's priced trip duration. Actual times are the loop's clock when the pickup and the delivery
/// commit. Orders cancelled or failed are forgotten; an order dispatched before a restart has no prediction and is not
/// counted. Loop-owned.
final class ETAAccuracy {
    private struct Prediction {
        var pickupAtMs: Int64
        var pickedUpAtMs: Int64?
    }
    private var predictions: [OrderID: Prediction] = [:]
    private let pickupErrors: ValueHistogram
    private let dropoffErrors: ValueHistogram

    /// Seconds late (positive) or early (negative): a few seconds to a quarter of an hour either way.
    static let buckets: [Double] = [-900, -600, -300, -120, -60, -30, -10, 0, 10, 30, 60, 120, 300, 600, 900]

    init(registry: PrometheusCollectorRegistry) {
        let name = MetricNameDescriptor(metricName: "hexfleet_eta_error", unitName: "seconds",
                                        helpText: "Actual minus dispatch-time predicted arrival, per delivered order and leg")
        pickupErrors = registry.makeValueHistogram(descriptor: name, labels: [("leg", "pickup")], buckets: Self.buckets)
        dropoffErrors = registry.makeValueHistogram(descriptor: name, labels: [("leg", "dropoff")], buckets: Self.buckets)
    }

    /// An offer went out at `offeredAtMs` with a pickup ETA: the prediction to judge (a later offer replaces it).
    func offered(_ order: OrderID, atMs offeredAtMs: Int64, pickupETASeconds: Double) {
        guard pickupETASeconds.isFinite, pickupETASeconds >= 0 else { return }
        predictions[order] = Prediction(pickupAtMs: offeredAtMs + Int64((pickupETASeconds * 1000).rounded()))
    }

    /// The courier picked the order up at `atMs`.
    func pickedUp(_ order: OrderID, atMs: Int64) {
        predictions[order]?.pickedUpAtMs = atMs
    }

    /// The order was delivered at `atMs`; `tripSeconds` is its priced pickup-to-drop-off duration. Records both legs
    /// and returns them (seconds late), nil when the order had no prediction or no pickup.
    @discardableResult
    func delivered(_ order: OrderID, atMs: Int64, tripSeconds: Int64) -> (pickup: Double, dropoff: Double)? {
        guard let p = predictions.removeValue(forKey: order), let pickedUp = p.pickedUpAtMs else { return nil }
        let pickupError = Double(pickedUp - p.pickupAtMs) / 1000
        let dropoffError = Double(atMs - (p.pickupAtMs + tripSeconds * 1000)) / 1000
        pickupErrors.record(pickupError)
        dropoffErrors.record(dropoffError)
        return (pickupError, dropoffError)
    }

    /// The order ended without a delivery (cancelled, failed): nothing to judge.
    func forget(_ order: OrderID) {
        predictions[order] = nil
    }

    /// Orders with a prediction still open.
    var openCount: Int { predictions.count }
}

import Foundation

/// Surge model constants; see docs/pricing.md for the formula.
public struct SurgeConfig: Sendable, Equatable, Codable {
    /// Highest multiplier (≥ 1).
    public var cap: Double = 2.5
    /// EWMA weight of the newest tick, in (0, 1].
    public var alpha: Double = 0.3
    /// Multiplier added per unit of pressure above `threshold`.
    public var sensitivity: Double = 0.5
    /// Pressure (demand density ÷ supply density) at which surge starts.
    public var threshold: Double = 1.0
    /// Couriers per km² assumed present even when none are seen, so that one order in an empty
    /// zone does not read as infinite pressure.
    public var baselineSupplyPerKm2: Double = 0.5
    /// Weight of the neighbours' mean pressure, in [0, 1]; 0 turns the term off.
    public var neighbourWeight: Double = 0.25

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case cap, alpha, sensitivity, threshold
        case baselineSupplyPerKm2 = "baseline_supply_per_km2", neighbourWeight = "neighbour_weight"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SurgeConfig.defaults
        cap = try c.decodeIfPresent(Double.self, forKey: .cap) ?? d.cap
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        sensitivity = try c.decodeIfPresent(Double.self, forKey: .sensitivity) ?? d.sensitivity
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? d.threshold
        baselineSupplyPerKm2 = try c.decodeIfPresent(Double.self, forKey: .baselineSupplyPerKm2) ?? d.baselineSupplyPerKm2
        neighbourWeight = try c.decodeIfPresent(Double.self, forKey: .neighbourWeight) ?? d.neighbourWeight
    }

    static let defaults = SurgeConfig()

    /// Nil when every constant is in range, else the reason.
    func validationFailure() -> String? {
        guard cap.isFinite, cap >= 1 else { return "surge.cap must be ≥ 1" }
        guard alpha.isFinite, alpha > 0, alpha <= 1 else { return "surge.alpha must be in (0, 1]" }
        guard sensitivity.isFinite, sensitivity >= 0 else { return "surge.sensitivity must be ≥ 0" }
        guard threshold.isFinite, threshold >= 0 else { return "surge.threshold must be ≥ 0" }
        guard baselineSupplyPerKm2.isFinite, baselineSupplyPerKm2 > 0 else { return "surge.baseline_supply_per_km2 must be > 0" }
        guard neighbourWeight.isFinite, neighbourWeight >= 0, neighbourWeight <= 1 else { return "surge.neighbour_weight must be in [0, 1]" }
        return nil
    }
}

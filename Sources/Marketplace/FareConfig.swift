import Foundation

/// Fares for one vehicle type, in integer cents.
public struct VehicleFare: Sendable, Equatable, Codable {
    /// Flat amount per trip.
    public var baseCents: Int64
    /// Per kilometre of route.
    public var perKmCents: Int64
    /// Per minute of route duration.
    public var perMinuteCents: Int64
    /// The least a trip costs before surge.
    public var minimumCents: Int64

    /// A fare.
    public init(baseCents: Int64, perKmCents: Int64, perMinuteCents: Int64, minimumCents: Int64) {
        self.baseCents = baseCents
        self.perKmCents = perKmCents
        self.perMinuteCents = perMinuteCents
        self.minimumCents = minimumCents
    }

    enum CodingKeys: String, CodingKey {
        case baseCents = "base_cents", perKmCents = "per_km_cents", perMinuteCents = "per_minute_cents"
        case minimumCents = "minimum_cents"
    }
}

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

/// The fare table: currency, quote lifetime, fares per vehicle type and surge constants.
///
/// Loaded at start from `fixtures/pricing.json` (or `--pricing FILE`); `FareConfig.defaults` when absent.
public struct FareConfig: Sendable, Equatable, Codable {
    /// ISO 4217 code of every price.
    public var currency: String
    /// How long a quote stays valid, seconds (default 300).
    public var quoteTTLSeconds: Int64
    /// Fares by vehicle type (`car`, `bike`, `scooter`, …).
    public var vehicles: [String: VehicleFare]
    /// Surge constants.
    public var surge: SurgeConfig

    /// A fare table.
    public init(currency: String, quoteTTLSeconds: Int64, vehicles: [String: VehicleFare], surge: SurgeConfig) {
        self.currency = currency
        self.quoteTTLSeconds = quoteTTLSeconds
        self.vehicles = vehicles
        self.surge = surge
    }

    enum CodingKeys: String, CodingKey {
        case currency, quoteTTLSeconds = "quote_ttl_s", vehicles, surge
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        currency = try c.decode(String.self, forKey: .currency)
        quoteTTLSeconds = try c.decodeIfPresent(Int64.self, forKey: .quoteTTLSeconds) ?? 300
        vehicles = try c.decode([String: VehicleFare].self, forKey: .vehicles)
        surge = try c.decodeIfPresent(SurgeConfig.self, forKey: .surge) ?? SurgeConfig()
    }

    /// Built-in fares, used when no file is given (the same numbers as fixtures/pricing.json).
    public static let defaults = FareConfig(
        currency: "EUR", quoteTTLSeconds: 300,
        vehicles: [
            "car": VehicleFare(baseCents: 250, perKmCents: 110, perMinuteCents: 30, minimumCents: 600),
            "bike": VehicleFare(baseCents: 150, perKmCents: 60, perMinuteCents: 15, minimumCents: 350),
            "scooter": VehicleFare(baseCents: 180, perKmCents: 75, perMinuteCents: 18, minimumCents: 400),
            "van": VehicleFare(baseCents: 500, perKmCents: 160, perMinuteCents: 40, minimumCents: 1200),
        ],
        surge: SurgeConfig())

    /// Parses and validates a fare table from JSON bytes.
    /// - Throws: `invalid_config` naming the problem.
    public static func parse(_ json: [UInt8]) throws(MarketplaceError) -> FareConfig {
        let config: FareConfig
        do { config = try JSONDecoder().decode(FareConfig.self, from: Data(json)) } catch {
            throw MarketplaceError(.invalidConfig, "pricing JSON: \(error)")
        }
        if let why = config.validationFailure() { throw MarketplaceError(.invalidConfig, why) }
        return config
    }

    /// The fare table in `path`, or `defaults` when the file does not exist.
    /// - Throws: `invalid_config` when the file exists but cannot be read or is malformed.
    public static func load(path: String) throws(MarketplaceError) -> FareConfig {
        guard FileManager.default.fileExists(atPath: path) else { return defaults }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MarketplaceError(.invalidConfig, "cannot read \(path)")
        }
        return try parse([UInt8](data))
    }

    func validationFailure() -> String? {
        guard currency.utf8.count == 3 else { return "currency must be a three-letter code" }
        guard quoteTTLSeconds > 0, quoteTTLSeconds <= 86_400 else { return "quote_ttl_s must be in 1…86400" }
        guard !vehicles.isEmpty else { return "vehicles must not be empty" }
        for (name, f) in vehicles {
            guard !name.isEmpty, name.utf8.count <= 32 else { return "vehicle names must be 1–32 bytes" }
            guard f.baseCents >= 0, f.perKmCents >= 0, f.perMinuteCents >= 0, f.minimumCents >= 0,
                  f.baseCents < 10_000_000, f.perKmCents < 10_000_000, f.perMinuteCents < 10_000_000,
                  f.minimumCents < 10_000_000 else { return "fares for \(name) must be in 0…9,999,999 cents" }
        }
        return surge.validationFailure()
    }
}

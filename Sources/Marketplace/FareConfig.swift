import Foundation

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

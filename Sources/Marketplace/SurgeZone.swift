import HexGeo
import Synchronization

/// One zone's surge as `GET /v1/surge` shows it.
public struct SurgeZone: Sendable, Equatable {
    /// The zone id (an H3 resolution-8 cell in the Engine).
    public var zone: UInt64
    /// Smoothed, capped multiplier (≥ 1).
    public var multiplier: Double
    /// Waiting orders counted in the last tick.
    public var demand: Int
    /// Available couriers counted in the last tick.
    public var supply: Int
}

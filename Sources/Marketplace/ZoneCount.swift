import HexGeo
import Synchronization

/// Demand and supply counted in one zone during one tick.
public struct ZoneCount: Sendable, Equatable {
    /// The zone.
    public var zone: Zone
    /// Orders waiting for a courier whose pick-up is in the zone.
    public var demand: Int
    /// Available couriers in the zone.
    public var supply: Int

    /// A count.
    public init(zone: Zone, demand: Int, supply: Int) {
        self.zone = zone
        self.demand = demand
        self.supply = supply
    }
}

import HexGeo

/// Road distance and time between two points, as the router computes them.
public struct RouteCost: Sendable, Equatable {
    /// Metres along the road.
    public var distanceMeters: Int64
    /// Seconds of driving.
    public var durationSeconds: Int64

    /// A cost; negative values are refused by the pricer (`invalid_input`).
    public init(distanceMeters: Int64, durationSeconds: Int64) {
        self.distanceMeters = distanceMeters
        self.durationSeconds = durationSeconds
    }
}

/// What pricing needs from routing: a pick-up → drop-off cost for a vehicle type.
///
/// The Engine backs it with the Routing module's CH query; Marketplace does not import Routing.
/// Called on the thread that asks for a quote; it must be fast (a CH query is microseconds).
public protocol RouteCostProvider: Sendable {
    /// The cost, or nil when no route joins the points (→ `no_route`).
    func routeCost(from pickup: LatLng, to dropoff: LatLng, vehicle: String) -> RouteCost?
}

/// A zone: a surge cell's id and area.
public struct Zone: Sendable, Hashable {
    /// The zone's id (the Engine uses the H3 resolution-8 cell index).
    public var id: UInt64
    /// The zone's area, m² (> 0).
    public var areaM2: Double

    /// A zone.
    public init(id: UInt64, areaM2: Double) {
        self.id = id
        self.areaM2 = areaM2
    }
}

/// Maps a point to its surge zone; the Engine backs it with H3 resolution 8 cells.
public protocol ZoneKeyer: Sendable {
    /// The zone holding `point`, or nil when the point is invalid.
    func zone(for point: LatLng) -> Zone?
    /// Ids of the zones around `zone` (H3 `gridDisk(cell, 1)` minus the cell), for the optional
    /// neighbourhood term; an empty answer turns the term off.
    func neighbors(of zone: UInt64) -> [UInt64]
}

extension ZoneKeyer {
    /// No neighbours: the neighbourhood term is off.
    public func neighbors(of zone: UInt64) -> [UInt64] { [] }
}

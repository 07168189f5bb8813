import HexGeo

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

import HexGeo
import Vocabulary

/// Maps a point to its surge zone; the Engine backs it with H3 resolution 8 cells.
public protocol ZoneKeyer: Sendable {
    /// The zone holding `point`, or nil when the point is invalid.
    func zone(for point: LatLng) -> Zone?
    /// Ids of the zones around `zone` (H3 `gridDisk(cell, 1)` minus the cell), for the optional
    /// neighbourhood term; an empty answer turns the term off.
    func neighbors(of zone: UInt64) -> [UInt64]
    /// The zone of an H3 cell (a live-index bucket), or nil for an invalid cell.
    func zone(forCell cell: H3Cell) -> Zone?
}

extension ZoneKeyer {
    /// No neighbours: the neighbourhood term is off.
    public func neighbors(of zone: UInt64) -> [UInt64] { [] }

    /// The zone of the cell's centre.
    public func zone(forCell cell: H3Cell) -> Zone? {
        guard let center = try? H3.cellToLatLng(cell) else { return nil }
        return zone(for: center)
    }
}

import HexGeo
import Synchronization
import Vocabulary

/// Surge zones as H3 cells (resolution 8 by default, ≈ 0.74 km² each), with H3's exact cell area
/// and `gridDisk(cell, 1)` neighbours: the keyer the Engine gives `SurgeMap` and `Pricer`.
///
/// Areas are cached per cell (bounded; cleared when full), because a tick keys every waiting
/// order and available courier and a cell's area costs a boundary computation.
public final class H3ZoneKeyer: ZoneKeyer {
    /// The H3 resolution of the zones.
    public let resolution: Int
    private let areas = Mutex<[UInt64: Double]>([:])
    private let cacheLimit: Int

    /// A keyer at `resolution` (0…15; out-of-range values are clamped).
    public init(resolution: Int = 8, cacheLimit: Int = 1 << 16) {
        self.resolution = min(15, max(0, resolution))
        self.cacheLimit = max(1, cacheLimit)
    }

    public func zone(for point: LatLng) -> Zone? {
        guard let cell = try? H3.latLngToCell(point, resolution: resolution) else { return nil }
        return zone(ofZoneCell: cell)
    }

    /// The zone of a cell: its parent at the zone resolution (bit operations, no trigonometry), or the zone of its
    /// centre when the cell is coarser than the zones.
    public func zone(forCell cell: H3Cell) -> Zone? {
        guard H3.isValidCell(cell) else { return nil }
        let r = H3.getResolution(cell)
        if r < resolution {
            guard let center = try? H3.cellToLatLng(cell) else { return nil }
            return zone(for: center)
        }
        guard let parent = try? H3.cellToParent(cell, resolution: resolution) else { return nil }
        return zone(ofZoneCell: parent)
    }

    private func zone(ofZoneCell cell: H3Cell) -> Zone? {
        if let a = areas.withLock({ $0[cell.rawValue] }) { return Zone(id: cell.rawValue, areaM2: a) }
        guard let a = try? H3.cellAreaM2(cell), a > 0 else { return nil }
        let limit = cacheLimit
        areas.withLock { m in
            if m.count >= limit { m.removeAll(keepingCapacity: true) }
            m[cell.rawValue] = a
        }
        return Zone(id: cell.rawValue, areaM2: a)
    }

    public func neighbors(of zone: UInt64) -> [UInt64] {
        var out: [H3Cell] = []
        guard (try? H3.gridDisk(H3Cell(rawValue: zone), k: 1, into: &out)) != nil else { return [] }
        return out.map(\.rawValue).filter { $0 != zone }
    }
}

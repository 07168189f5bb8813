import HexGeo

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

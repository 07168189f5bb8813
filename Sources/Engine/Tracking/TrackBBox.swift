/// A viewport subscription: `[minLat, minLng, maxLat, maxLng]` held in 1e-7 degrees like the driver table, so a
/// containment test is four integer compares. It does not cross the antimeridian (min ≤ max on both axes).
struct TrackBBox: Equatable {
    var minLatE7: Int32, minLngE7: Int32, maxLatE7: Int32, maxLngE7: Int32

    /// A bbox from degrees; nil when a value is out of range, not finite, or min > max.
    init?(minLat: Double, minLng: Double, maxLat: Double, maxLng: Double) {
        guard minLat.isFinite, minLng.isFinite, maxLat.isFinite, maxLng.isFinite,
              minLat >= -90, maxLat <= 90, minLng >= -180, maxLng <= 180, minLat <= maxLat, minLng <= maxLng
        else { return nil }
        minLatE7 = Int32((minLat * 1e7).rounded(.down))
        minLngE7 = Int32((minLng * 1e7).rounded(.down))
        maxLatE7 = Int32((maxLat * 1e7).rounded(.up))
        maxLngE7 = Int32((maxLng * 1e7).rounded(.up))
    }

    @inline(__always)
    func contains(latE7: Int32, lngE7: Int32) -> Bool {
        latE7 >= minLatE7 && latE7 <= maxLatE7 && lngE7 >= minLngE7 && lngE7 <= maxLngE7
    }

    /// The key of the grid square holding a point, for squares of `sideE7`.
    @inline(__always)
    static func gridKey(latE7: Int32, lngE7: Int32, sideE7: Int32) -> Int64 {
        let row = (Int64(latE7) + 900_000_000) / Int64(sideE7)
        let column = (Int64(lngE7) + 1_800_000_000) / Int64(sideE7)
        return row << 32 | column
    }

    /// The grid squares this bbox overlaps, or nil when there are more than `limit`.
    func gridKeys(sideE7: Int32, limit: Int) -> [Int64]? {
        let side = Int64(sideE7)
        let r0 = (Int64(minLatE7) + 900_000_000) / side, r1 = (Int64(maxLatE7) + 900_000_000) / side
        let c0 = (Int64(minLngE7) + 1_800_000_000) / side, c1 = (Int64(maxLngE7) + 1_800_000_000) / side
        guard (r1 - r0 + 1) * (c1 - c0 + 1) <= Int64(limit) else { return nil }
        var keys: [Int64] = []
        keys.reserveCapacity(Int((r1 - r0 + 1) * (c1 - c0 + 1)))
        for r in r0...r1 { for c in c0...c1 { keys.append(r << 32 | c) } }
        return keys
    }
}

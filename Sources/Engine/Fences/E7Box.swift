/// A closed box in degrees × 1e7, the first test of every fence check: a fence's own box (`FenceIndex.FenceBox`) and
/// the same box clipped to one grid square (`SquareEntry`) answer it alike.
protocol E7Box {
    var minLat: Int32 { get }
    var maxLat: Int32 { get }
    var minLng: Int32 { get }
    var maxLng: Int32 { get }
}

extension E7Box {
    @inline(__always)
    func holds(latE7: Int32, lngE7: Int32) -> Bool {
        latE7 >= minLat && latE7 <= maxLat && lngE7 >= minLng && lngE7 <= maxLng
    }

    /// Whether the box of the segment a→b meets this box (either end may be anywhere).
    @inline(__always)
    func meets(_ aLat: Int32, _ aLng: Int32, _ bLat: Int32, _ bLng: Int32) -> Bool {
        if max(aLat, bLat) < minLat || min(aLat, bLat) > maxLat { return false }
        // A segment taking the short way across the antimeridian spans the far sides: do not rule it out.
        if abs(Int64(aLng) - Int64(bLng)) > 1_800_000_000 { return true }
        return max(aLng, bLng) >= minLng && min(aLng, bLng) <= maxLng
    }
}

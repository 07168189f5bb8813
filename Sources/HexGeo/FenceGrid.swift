import Foundation
import Vocabulary

/// Squares of a fixed latitude/longitude grid, `sideE7` (degrees × 1e7) on each side, each named by one `UInt64`
/// (row << 32 | column). The fence index keys its square → fences map with these.
///
/// Why squares and not H3 cells on the ingest path: a ping's key is two integer divisions of the coordinates the
/// record already carries (a few nanoseconds), where `latLngToCell` costs hundreds; the fences themselves may still
/// be H3 cells, and their cover is computed once, at creation. Columns wrap at the antimeridian, so a fence across
/// it covers squares on both edges.
public struct FenceGrid: Sendable, Equatable {
    /// Side of a square, degrees × 1e7.
    public let sideE7: Int64
    /// Squares around a parallel.
    public let columns: Int64

    /// A grid of `sideE7`-sided squares (clamped to 0.0001°…10°).
    public init(sideE7: Int64 = 100_000) {
        self.sideE7 = min(max(sideE7, 1_000), 100_000_000)
        columns = (3_600_000_000 + self.sideE7 - 1) / self.sideE7
    }

    /// The square holding a point given in degrees × 1e7.
    @inline(__always)
    public func key(latE7: Int32, lngE7: Int32) -> UInt64 {
        let row = (Int64(latE7) + 900_000_000) / sideE7
        let col = ((Int64(lngE7) + 1_800_000_000) / sideE7) % columns
        return UInt64(row) << 32 | UInt64(col)
    }

    /// The square holding a point.
    public func key(_ p: LatLng) -> UInt64 {
        key(latE7: Int32(clamping: Int64((p.latDegrees * 1e7).rounded())), lngE7: Int32(clamping: Int64((p.lngDegrees * 1e7).rounded())))
    }

    /// Side of a square north–south, meters (the east–west side is this × cos latitude, never longer).
    public var sideMeters: Double { Double(sideE7) * 1e-7 * Double.pi / 180 * Geodesy.earthRadiusMeters }

    /// Every square within `marginMeters` of the shape (conservatively: a square is kept when the distance bound
    /// from its centre is within the margin plus its half diagonal), or nil past `maxSquares`.
    public func cover(_ shape: FenceShape, marginMeters: Double, maxSquares: Int) -> [UInt64]? {
        if case .cells(let set) = shape { return cover(set, marginMeters: marginMeters, maxSquares: maxSquares) }
        let reach = marginMeters + sideMeters
        let box = shape.boundingBox
        let dLat = reach / Geodesy.earthRadiusMeters
        let south = max(-Double.pi / 2, box.south - dLat), north = min(Double.pi / 2, box.north + dLat)
        let widestLat = max(abs(south), abs(north))
        let cosLat = cos(widestLat)
        let allColumns = cosLat < 1e-6
        let dLng = allColumns ? 0 : reach / (Geodesy.earthRadiusMeters * cosLat)
        let width = box.widthRadians + 2 * dLng
        let rowLo = Int64(((south * 180 / Double.pi * 1e7 + 900_000_000) / Double(sideE7)).rounded(.down))
        let rowHi = Int64((north * 180 / Double.pi * 1e7 + 900_000_000) / Double(sideE7))
        var colLo: Int64 = 0, colCount = columns
        if !allColumns && width < 2 * Double.pi {
            colLo = Int64((((box.west - dLng) * 180 / Double.pi * 1e7 + 1_800_000_000) / Double(sideE7)).rounded(.down)) - 1
            colCount = Int64(width * 180 / Double.pi * 1e7 / Double(sideE7)) + 3
            colCount = min(colCount, columns)
        }
        let rows = rowHi - rowLo + 1
        guard rows > 0, rows.multipliedReportingOverflow(by: colCount).partialValue <= Int64(maxSquares) * 4 else { return nil }
        // Planar distance bounds drift a little from the sphere: a 5 % and 50 m allowance keeps the cover conservative.
        let threshold = (marginMeters + sideMeters * 0.7072) * 1.05 + 50
        var out: [UInt64] = []
        for row in rowLo...rowHi where row >= 0 && row * sideE7 <= 1_800_000_000 {
            let latDeg = (Double(row * sideE7) + Double(sideE7) / 2 - 900_000_000) / 1e7
            for i in 0..<colCount {
                let col = ((colLo + i) % columns + columns) % columns
                let lngDeg = (Double(col * sideE7) + Double(sideE7) / 2 - 1_800_000_000) / 1e7
                let centre = LatLng(degrees: min(90, latDeg), lngDeg > 180 ? lngDeg - 360 : lngDeg)
                if shape.distanceLowerBoundMeters(centre) <= threshold {
                    out.append(UInt64(row) << 32 | UInt64(col))
                    if out.count > maxSquares { return nil }
                }
            }
        }
        return Array(Set(out))
    }

    /// A cell set's cover, cell by cell: the squares whose centre lies within a cell's radius, the margin and half a
    /// square's diagonal of the cell's centre. O(cells × squares a cell reaches), where testing every square of the
    /// set's box against every cell would be their product.
    func cover(_ set: FenceCellSet, marginMeters: Double, maxSquares: Int) -> [UInt64]? {
        var out = Set<UInt64>()
        let halfDiagonal = sideMeters * 0.7072
        let degreesPerMeter = 180 / (Double.pi * Geodesy.earthRadiusMeters)
        for (centre, radius) in set.centres {
            let reach = (radius + marginMeters + halfDiagonal) * 1.05 + 50
            let latSpan = reach * degreesPerMeter
            let cosLat = max(cos(centre.lat), 1e-6)
            let lngSpan = min(180, latSpan / cosLat)
            let side = Double(sideE7) / 1e7
            let rowLo = Int64(((centre.latDegrees - latSpan + 90) / side).rounded(.down))
            let rowHi = Int64(((centre.latDegrees + latSpan + 90) / side).rounded(.down))
            let colLo = Int64(((centre.lngDegrees - lngSpan + 180) / side).rounded(.down))
            let colHi = Int64(((centre.lngDegrees + lngSpan + 180) / side).rounded(.down))
            guard (rowHi - rowLo + 1) * (colHi - colLo + 1) <= Int64(maxSquares) * 4 else { return nil }
            for row in max(0, rowLo)...max(0, rowHi) where row * sideE7 <= 1_800_000_000 {
                for c in colLo...colHi {
                    let col = (c % columns + columns) % columns
                    let latDeg = (Double(row * sideE7) + Double(sideE7) / 2 - 900_000_000) / 1e7
                    let lngDeg = (Double(col * sideE7) + Double(sideE7) / 2 - 1_800_000_000) / 1e7
                    let p = LatLng(degrees: min(90, latDeg), lngDeg > 180 ? lngDeg - 360 : lngDeg)
                    guard Geodesy.distanceMeters(p, centre) <= reach else { continue }
                    out.insert(UInt64(row) << 32 | UInt64(col))
                    if out.count > maxSquares { return nil }
                }
            }
        }
        return Array(out)
    }

    /// The squares of points sampled along the segment `a`→`b` (degrees × 1e7, the short way across the
    /// antimeridian) every quarter side, at most `maxSamples` of them, ends included; calls `body` for each
    /// (a square may repeat).
    @inline(__always)
    public func forEachSquare(alongLatE7 aLat: Int32, _ aLng: Int32, to bLat: Int32, _ bLng: Int32, maxSamples: Int = 4_096,
                              _ body: (UInt64) -> Void) {
        let dLat = Int64(bLat) - Int64(aLat)
        var dLng = Int64(bLng) - Int64(aLng)
        if dLng > 1_800_000_000 { dLng -= 3_600_000_000 } else if dLng < -1_800_000_000 { dLng += 3_600_000_000 }
        let step = max(sideE7 / 4, 1)
        let n = min(Int64(maxSamples), max(abs(dLat), abs(dLng)) / step + 1)
        for i in 0...n {
            let lat = Int64(aLat) + dLat * i / n
            var lng = Int64(aLng) + dLng * i / n
            if lng > 1_800_000_000 { lng -= 3_600_000_000 } else if lng < -1_800_000_000 { lng += 3_600_000_000 }
            body(key(latE7: Int32(clamping: lat), lngE7: Int32(clamping: lng)))
        }
    }
}

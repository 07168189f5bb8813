import Foundation
import HexGeo
import Vocabulary

/// Equal-angle latitude/longitude cells of `stepDegrees`, a simple scheme that serves as the baseline the
/// H3 scheme is measured against. Cells touching a pole all meet at it, so a polar row's neighbours are the
/// whole row.
public struct GridCellScheme: SpatialCellScheme, Sendable {
    public let stepDegrees: Double
    let rows: Int
    let cols: Int
    public let maxCellRadiusMeters: Double

    /// A grid with cells `stepDegrees` on a side; 180 must be a whole multiple of the step.
    public init(stepDegrees: Double = 0.01) {
        self.stepDegrees = stepDegrees
        rows = Int((180 / stepDegrees).rounded())
        cols = 2 * rows
        // |Δlat|, |Δlng| ≤ s/2 gives a central angle ≤ 2·asin(√2·sin(s/4)); 1 % slack covers rounding.
        let s = stepDegrees * Double.pi / 180
        maxCellRadiusMeters = 2 * asin(2.0.squareRoot() * sin(s / 4)) * Geodesy.earthRadiusMeters * 1.01
    }

    @inline(__always)
    func rowCol(_ p: LatLng) -> (Int, Int) {
        var r = Int(((p.latDegrees + 90) / stepDegrees).rounded(.down))
        var c = Int(((p.lngDegrees + 180) / stepDegrees).rounded(.down))
        r = min(max(r, 0), rows - 1)
        c = ((c % cols) + cols) % cols
        return (r, c)
    }

    public func cell(of point: LatLng) -> UInt64 {
        let (r, c) = rowCol(point)
        return UInt64(r) << 32 | UInt64(c)
    }

    public func center(of cell: UInt64) -> LatLng {
        let r = Double(cell >> 32), c = Double(cell & 0xFFFF_FFFF)
        return LatLng(degrees: -90 + (r + 0.5) * stepDegrees, -180 + (c + 0.5) * stepDegrees)
    }

    /// The distance from the centre to the nearer of the cell's parallels (half a step along the meridian) and its
    /// meridians (a great circle: asin(sin(half step)·cos(latitude))), less 1 % and 1 cm; 0 for the polar rows.
    public func innerRadiusMeters(of cell: UInt64) -> Double {
        let r = Int(cell >> 32)
        guard r > 0 && r < rows - 1 else { return 0 }
        let half = stepDegrees * Double.pi / 360
        let latitude = center(of: cell).lat
        let toMeridian = asin(sin(half) * cos(abs(latitude) + half))
        return max(0, min(half, toMeridian) * Geodesy.earthRadiusMeters * 0.99 - 0.01)
    }

    public func neighbors(of cell: UInt64, into out: inout [UInt64], scratch: inout [H3Cell]) {
        let r = Int(cell >> 32), c = Int(cell & 0xFFFF_FFFF)
        for dr in -1...1 {
            let rr = r + dr
            guard rr >= 0 && rr < rows else { continue }
            if rr == 0 || rr == rows - 1 {
                // A polar row: every cell in it touches the pole.
                for cc in 0..<cols where !(rr == r && cc == c) { out.append(UInt64(rr) << 32 | UInt64(cc)) }
                continue
            }
            for dc in -1...1 where !(dr == 0 && dc == 0) {
                let cc = ((c + dc) % cols + cols) % cols
                out.append(UInt64(rr) << 32 | UInt64(cc))
            }
        }
    }
}

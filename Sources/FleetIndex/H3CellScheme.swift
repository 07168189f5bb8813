import Foundation
import HexGeo
import Vocabulary

/// H3 cells of one resolution as index buckets: the scheme the engine uses (bit-exact H3 v4 from HexGeo).
///
/// `maxCellRadiusMeters` must bound the distance from any cell's centre to any point of that cell. It is
/// measured exactly over every res-2 cell (centre to each boundary vertex, pentagons and distortion vertices
/// included), then scaled by √7 per finer resolution, as H3's aperture-7 hierarchy shrinks cells, with 30 %
/// slack for distortion differences between resolutions. A loose bound costs a little speed, never exactness.
public struct H3CellScheme: SpatialCellScheme, Sendable {
    public let resolution: Int
    public let maxCellRadiusMeters: Double

    /// Buckets at `resolution` (0…15; 9 ≈ 0.1 km² cells suits city fleets).
    public init(resolution: Int = 9) {
        let r = min(max(resolution, 0), 15)
        self.resolution = r
        maxCellRadiusMeters = H3CellScheme.radiusBound(resolution: r)
    }

    @inline(__always)
    public func cell(of point: LatLng) -> UInt64 {
        // Points reaching the index are validated, so latLngToCell cannot fail; 0 is never a valid cell.
        (try? H3.latLngToCell(point, resolution: resolution))?.rawValue ?? 0
    }

    @inline(__always)
    public func center(of cell: UInt64) -> LatLng {
        (try? H3.cellToLatLng(H3Cell(rawValue: cell))) ?? LatLng(lat: 0, lng: 0)
    }

    /// The cell's own inscribed radius: the smallest cross-track distance from its centre to the great circle of
    /// each boundary edge (pentagons and distortion vertices included; the distance to a great circle never exceeds
    /// the distance to the edge on it, so this is a lower bound), less 1 % and 1 cm for rounding at the boundary.
    /// A regular hexagon's inscribed circle covers 91 % of its area, so most moves keep their cell without a lookup.
    public func innerRadiusMeters(of cell: UInt64) -> Double {
        let h3 = H3Cell(rawValue: cell)
        guard let centre = try? H3.cellToLatLng(h3), let boundary = try? H3.cellToBoundary(h3) else { return 0 }
        let n = boundary.count   // inline storage: no allocation when a driver opens a new bucket
        guard n >= 3 else { return 0 }
        var inner = Double.infinity
        for i in 0..<n {
            inner = min(inner, Self.crossTrackMeters(centre, edgeFrom: boundary[i], to: boundary[(i + 1) % n]))
        }
        return max(0, inner * 0.99 - 0.01)
    }

    /// The distance from `p` to the great circle through `a` and `b`.
    static func crossTrackMeters(_ p: LatLng, edgeFrom a: LatLng, to b: LatLng) -> Double {
        let d13 = Geodesy.centralAngle(a, p)
        let angle = Geodesy.initialBearing(from: a, to: p) - Geodesy.initialBearing(from: a, to: b)
        return asin(min(1, abs(sin(d13) * sin(angle)))) * Geodesy.earthRadiusMeters
    }

    public func neighbors(of cell: UInt64, into out: inout [UInt64], scratch: inout [H3Cell]) {
        scratch.removeAll(keepingCapacity: true)
        guard (try? H3.gridDisk(H3Cell(rawValue: cell), k: 1, into: &scratch)) != nil else { return }
        for c in scratch where c.rawValue != cell { out.append(c.rawValue) }
    }

    /// Upper bound on centre-to-point distance per resolution.
    static func radiusBound(resolution: Int) -> Double {
        let base = measuredResolution2Radius
        if resolution >= 2 { return base * pow(7, -Double(resolution - 2) / 2) * 1.3 }
        return base * pow(7, Double(2 - resolution) / 2) * 1.6
    }

    /// The largest centre-to-vertex distance over all 5,882 res-2 cells, measured once.
    static let measuredResolution2Radius: Double = {
        var worst = 0.0
        for base in 0..<122 {
            let res0 = H3Cell(rawValue: 0x0800_0000_0000_0000 | (UInt64(base) << 45) | 0x0000_1FFF_FFFF_FFFF)
            guard let children = try? H3.cellToChildren(res0, resolution: 2) else { continue }
            for c in children {
                guard let center = try? H3.cellToLatLng(c), let boundary = try? H3.cellToBoundary(c) else { continue }
                for v in boundary { worst = max(worst, Geodesy.distanceMeters(center, v)) }
            }
        }
        return worst
    }()
}

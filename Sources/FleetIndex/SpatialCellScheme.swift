import HexGeo
import Vocabulary

/// How the spatial index cuts the sphere into buckets. The index needs only these facts from a scheme,
/// so swapping the scheme (H3 cells, a lat/lng grid) touches no query code.
///
/// Contract for exact nearest-k: every point that `cell(of:)` maps to `c` lies within
/// `maxCellRadiusMeters` of `center(of: c)`, and the cells returned by `neighbors` include every cell that
/// shares an edge or a vertex with `c`.
public protocol SpatialCellScheme {
    /// The bucket key of the cell holding a point (radians).
    func cell(of point: LatLng) -> UInt64
    /// The cell's centre.
    func center(of cell: UInt64) -> LatLng
    /// An upper bound on the distance from any cell's centre to any point in that cell, in meters.
    var maxCellRadiusMeters: Double { get }
    /// A distance (great circle, meters) from `center(of: cell)` within which every point maps to `cell`: a driver
    /// still that close to its cell's centre needs no new cell computation. Asked once per bucket; 0 disables the
    /// shortcut for that cell.
    func innerRadiusMeters(of cell: UInt64) -> Double
    /// Appends the cells touching `cell` (not `cell` itself) to `out`; `scratch` is reusable working space, so
    /// a query allocates nothing here once it has grown.
    func neighbors(of cell: UInt64, into out: inout [UInt64], scratch: inout [H3Cell])
}

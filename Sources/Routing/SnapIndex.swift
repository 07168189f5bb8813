import Foundation
import HexGeo
import Vocabulary

/// A uniform grid over edge segments for nearest-segment queries.
///
/// Cells are about `cellMeters` square; each cell lists every edge whose segment crosses it. A query scans
/// rings of cells outward and stops once the next ring cannot hold anything closer than the best found. Distances use
/// a local equirectangular projection at the query point, accurate to well under a centimeter at city scale.
public final class SnapIndex: Sendable {
    private let graph: RoadGraph
    private let minLat: Double, minLng: Double
    private let cellLatDegrees: Double, cellLngDegrees: Double
    private let columns: Int, rows: Int
    private let cellOffsets: [UInt32]
    private let cellEdges: [UInt32]
    private let edgeTails: [UInt32]
    /// Smallest side of a cell in meters, for the ring stopping rule.
    private let cellMinMeters: Double
    /// Edges farther than this from a query are not considered (meters).
    public let maxSnapMeters: Double

    /// Builds the index over every edge of `graph`.
    public init(graph: RoadGraph, cellMeters: Double = 100, maxSnapMeters: Double = 5_000) {
        self.graph = graph
        self.maxSnapMeters = maxSnapMeters
        let n = graph.nodeCount
        var loLat = 90.0, hiLat = -90.0, loLng = 180.0, hiLng = -180.0
        for v in 0..<n {
            loLat = min(loLat, graph.latDegrees[v]); hiLat = max(hiLat, graph.latDegrees[v])
            loLng = min(loLng, graph.lngDegrees[v]); hiLng = max(hiLng, graph.lngDegrees[v])
        }
        if n == 0 { loLat = 0; hiLat = 0; loLng = 0; hiLng = 0 }
        let metersPerDegree = Geodesy.earthRadiusMeters * Double.pi / 180
        let maxAbsLat = min(89, max(abs(loLat), abs(hiLat)))
        let cosLat = cos(maxAbsLat * Double.pi / 180)
        // Grow cells so the grid stays within 4096 × 4096 and `maxCells`: building costs a pass over every cell, and
        // a dozen nodes spread over a continent (a corrupt graph file) asked for 10 million.
        let latMeters = (hiLat - loLat) * metersPerDegree, lngMeters = (hiLng - loLng) * metersPerDegree * cosLat
        let cellsCapMeters = (latMeters * lngMeters / Double(Self.maxCells(edges: graph.edgeCount))).squareRoot()
        let cellMeters = max(cellMeters, max(latMeters, lngMeters) / 4000, cellsCapMeters)
        cellLatDegrees = cellMeters / metersPerDegree
        cellLngDegrees = cellMeters / (metersPerDegree * max(cosLat, 0.01))
        minLat = loLat
        minLng = loLng
        let cellLng = cellLngDegrees, cellLat = cellLatDegrees
        let columns = max(1, min(4096, Int((hiLng - loLng) / cellLng) + 1))
        let rows = max(1, min(4096, Int((hiLat - loLat) / cellLat) + 1))
        self.columns = columns
        self.rows = rows
        cellMinMeters = cellMeters * 0.999   // lat side is exact; lng side is ≥ cellMeters below maxAbsLat
        // Cells per edge, counted then filled (CSR).
        var counts = [UInt32](repeating: 0, count: columns * rows + 1)
        func col(_ lng: Double) -> Int { min(columns - 1, max(0, Int((lng - loLng) / cellLng))) }
        func row(_ lat: Double) -> Int { min(rows - 1, max(0, Int((lat - loLat) / cellLat))) }
        /// Calls `visit` once for each cell the segment of edge `e` (from `u`) crosses, column by column: the cells
        /// a straight segment touches, not its bounding box, so a long diagonal edge costs its length in cells
        /// rather than their square (a corrupt graph file with grid-long diagonals used to take minutes to index).
        /// The edge's nearest point to any query lies on the segment, hence in one of these cells, which is all the
        /// ring search needs.
        func crossedCells(_ e: Int, _ u: Int, _ visit: (Int) -> Void) {
            let v = Int(graph.forwardHeads[e])
            let x0 = (graph.lngDegrees[u] - loLng) / cellLng, y0 = (graph.latDegrees[u] - loLat) / cellLat
            let x1 = (graph.lngDegrees[v] - loLng) / cellLng, y1 = (graph.latDegrees[v] - loLat) / cellLat
            let firstColumn = col(min(graph.lngDegrees[u], graph.lngDegrees[v]))
            let lastColumn = col(max(graph.lngDegrees[u], graph.lngDegrees[v]))
            let lowX = min(x0, x1), highX = max(x0, x1)
            // A hair of slack so a segment on a cell border is listed on both sides.
            let slack = 1e-9
            for c in firstColumn...lastColumn {
                // The part of the segment inside this column (the outer columns also take what the clamp put there).
                let xa = c == firstColumn ? lowX : max(lowX, Double(c))
                let xb = c == lastColumn ? highX : min(highX, Double(c + 1))
                var ya = y0, yb = y1
                if highX > lowX {
                    ya = y0 + (xa - x0) / (x1 - x0) * (y1 - y0)
                    yb = y0 + (xb - x0) / (x1 - x0) * (y1 - y0)
                }
                let lowY = max(0, min(Double(rows - 1), (min(ya, yb) - slack).rounded(.down)))
                let highY = max(0, min(Double(rows - 1), (max(ya, yb) + slack).rounded(.down)))
                for r in Int(lowY)...Int(highY) { visit(r * columns + c) }
            }
        }
        var tails = [UInt32](repeating: 0, count: graph.edgeCount)
        for u in 0..<n { for e in graph.outgoing(u) { tails[e] = UInt32(u) } }
        edgeTails = tails
        for u in 0..<n {
            for e in graph.outgoing(u) { crossedCells(e, u) { counts[$0 + 1] += 1 } }
        }
        for i in 1..<counts.count { counts[i] += counts[i - 1] }
        var fill = counts
        var edges = [UInt32](repeating: 0, count: Int(counts.last!))
        for u in 0..<n {
            for e in graph.outgoing(u) {
                crossedCells(e, u) { cell in
                    edges[Int(fill[cell])] = UInt32(e)
                    fill[cell] += 1
                }
            }
        }
        cellOffsets = counts
        cellEdges = edges
    }

    /// The most cells (up to a row and a column more) a grid over `edges` edges gets: 2^20, or 64 per edge when that
    /// is more. Road graphs stay below it at 100 m cells (Andorra, the largest extract at 64 × 117 km, makes about
    /// 750,000), so it only changes graphs whose few nodes lie hundreds of kilometers apart.
    static func maxCells(edges: Int) -> Int { max(1 << 20, 64 * edges) }

    /// The nearest point of `edge` to `p`: (distance in meters, fraction from tail, the point).
    public func project(_ p: LatLng, onto edge: Int, tail u: Int) -> (meters: Double, fraction: Double, point: LatLng) {
        project(p, onto: edge, tail: u, metersPerLngDegree: Self.metersPerLngDegree(at: p))
    }

    /// Meters per degree of longitude at `p`'s latitude (the projection's x scale; one cosine per query, not per edge).
    @inline(__always)
    static func metersPerLngDegree(at p: LatLng) -> Double { cos(p.lat) * Geodesy.earthRadiusMeters * Double.pi / 180 }

    /// `project(_:onto:tail:)` with the x scale already computed for `p`.
    @inline(__always)
    func project(_ p: LatLng, onto edge: Int, tail u: Int, metersPerLngDegree k: Double) -> (meters: Double, fraction: Double, point: LatLng) {
        let v = Int(graph.forwardHeads[edge])
        let kLat = Geodesy.earthRadiusMeters * Double.pi / 180
        let ax = (graph.lngDegrees[u] - p.lngDegrees) * k, ay = (graph.latDegrees[u] - p.latDegrees) * kLat
        let bx = (graph.lngDegrees[v] - p.lngDegrees) * k, by = (graph.latDegrees[v] - p.latDegrees) * kLat
        let dx = bx - ax, dy = by - ay
        let len2 = dx * dx + dy * dy
        var t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0
        t = min(1, max(0, t))
        let x = ax + t * dx, y = ay + t * dy
        let point = LatLng(degrees: graph.latDegrees[u] + t * (graph.latDegrees[v] - graph.latDegrees[u]),
                           graph.lngDegrees[u] + t * (graph.lngDegrees[v] - graph.lngDegrees[u]))
        return ((x * x + y * y).squareRoot(), t, point)
    }

    /// Cell entries over all edges, and the grid's size: what the index costs to build (tests bound it).
    var cost: (entries: Int, columns: Int, rows: Int) { (cellEdges.count, columns, rows) }

    /// Tail node of `edge`.
    @inline(__always)
    public func tail(of edge: Int) -> Int { Int(edgeTails[edge]) }

    /// Calls `visit` with every edge whose segment passes within `radiusMeters` of `p` (each edge once): the edge,
    /// its tail, the distance in meters, the fraction from the tail of the nearest point, and that point. The map
    /// matcher's candidates; `seen` is the caller's scratch (one flag per edge, all false on entry and on return).
    public func forEachEdge(near p: LatLng, withinMeters radiusMeters: Double, seen: inout [Bool],
                            _ visit: (_ edge: Int, _ tail: Int, _ meters: Double, _ fraction: Double, _ point: LatLng) -> Void) {
        guard graph.edgeCount > 0, seen.count >= graph.edgeCount, radiusMeters >= 0 else { return }
        let metersPerDegree = Geodesy.earthRadiusMeters * Double.pi / 180
        let dLat = radiusMeters / metersPerDegree
        let dLng = radiusMeters / (metersPerDegree * max(cos(p.lat), 0.01))
        let x0 = max(0, Int(((p.lngDegrees - dLng - minLng) / cellLngDegrees).rounded(.down)))
        let x1 = min(columns - 1, Int(((p.lngDegrees + dLng - minLng) / cellLngDegrees).rounded(.down)))
        let y0 = max(0, Int(((p.latDegrees - dLat - minLat) / cellLatDegrees).rounded(.down)))
        let y1 = min(rows - 1, Int(((p.latDegrees + dLat - minLat) / cellLatDegrees).rounded(.down)))
        guard x0 <= x1, y0 <= y1 else { return }
        let k = Self.metersPerLngDegree(at: p)
        var listed: [Int] = []
        for y in y0...y1 {
            for x in x0...x1 {
                let cell = y * columns + x
                for i in Int(cellOffsets[cell])..<Int(cellOffsets[cell + 1]) {
                    let e = Int(cellEdges[i])
                    if seen[e] { continue }
                    seen[e] = true
                    listed.append(e)
                    let u = tail(of: e)
                    let (d, t, q) = project(p, onto: e, tail: u, metersPerLngDegree: k)
                    if d <= radiusMeters { visit(e, u, d, t, q) }
                }
            }
        }
        for e in listed { seen[e] = false }
    }

    /// Snaps `p` to the nearest edge segment, or nil when no edge lies within `maxSnapMeters`.
    public func snap(_ p: LatLng) -> Snap? {
        guard graph.edgeCount > 0 else { return nil }
        let cx = Int(((p.lngDegrees - minLng) / cellLngDegrees).rounded(.down))
        let cy = Int(((p.latDegrees - minLat) / cellLatDegrees).rounded(.down))
        var best = Double.infinity
        var hits: [(edge: Int, fraction: Double)] = []
        var bestPoint = p
        let k = Self.metersPerLngDegree(at: p)
        let maxRing = Int(maxSnapMeters / cellMinMeters) + 2
        var r = 0
        // Start from the ring that touches the grid if the point lies outside it.
        let outside = max(0, max(-cx, cx - (columns - 1), -cy, cy - (rows - 1)))
        r = max(0, outside - 1)
        // Ring r lies beyond r - 1 whole cells plus the way from p to its own cell's nearest side: a point on a road
        // (the batch commands' road nodes) stops after its own cell instead of scanning the eight around it too.
        var margin = 0.0
        if outside == 0 {
            let fx = (p.lngDegrees - minLng) / cellLngDegrees - Double(cx), fy = (p.latDegrees - minLat) / cellLatDegrees - Double(cy)
            margin = max(0, min(fx, 1 - fx, fy, 1 - fy)) * cellMinMeters
        }
        while r <= maxRing {
            if r > 0, Double(r - 1) * cellMinMeters + margin > best + 1e-6 { break }
            for y in (cy - r)...(cy + r) where y >= 0 && y < rows {
                let full = y == cy - r || y == cy + r
                var x = cx - r
                while x <= cx + r {
                    if x >= 0 && x < columns {
                        let cell = y * columns + x
                        for i in Int(cellOffsets[cell])..<Int(cellOffsets[cell + 1]) {
                            let e = Int(cellEdges[i])
                            let u = tail(of: e)
                            let (d, t, q) = project(p, onto: e, tail: u, metersPerLngDegree: k)
                            if d < best - 1e-9 {
                                best = d; bestPoint = q
                                hits.removeAll(keepingCapacity: true)
                                hits.append((e, t))
                            } else if d <= best + 1e-9, !hits.contains(where: { $0.edge == e }) {
                                hits.append((e, t))
                            }
                        }
                    }
                    x += full ? 1 : (2 * r == 0 ? 1 : 2 * r)
                }
            }
            r += 1
        }
        guard best <= maxSnapMeters, !hits.isEmpty else { return nil }
        // Keep only edges through the same point (parallel and reverse edges of one segment).
        return Snap(point: bestPoint, distanceMeters: best, edges: hits)
    }
}

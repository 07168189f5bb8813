import Foundation
import HexGeo
import Vocabulary

extension DriverTable {
    /// The true k nearest fresh drivers within `maxRadiusMeters` whose status passes `statuses`, nearest first
    /// (ties by smaller id). Appends to `out`.
    ///
    /// Best-first search over cells: a cell is scanned in order of a lower bound on the distance to any
    /// point in it (centre distance minus the scheme's cell radius), and the search stops when the next
    /// bound exceeds the k-th best distance, so the answer is exact, not approximate.
    /// - Complexity: proportional to the drivers in the cells within reach of the k-th answer.
    public func nearest(to point: LatLng, k: Int, maxRadiusMeters: Double = .infinity,
                        statuses: StatusFilter = .all, nowMs: Int64, into out: inout [NearbyDriver]) {
        guard k > 0, maxRadiusMeters >= 0 else { return }
        search(point: point, k: k, radius: maxRadiusMeters, statuses: statuses, nowMs: nowMs)
        emitBest(into: &out)
    }

    /// `nearest(to:k:…)` returning a new array.
    public func nearest(to point: LatLng, k: Int, maxRadiusMeters: Double = .infinity,
                        statuses: StatusFilter = .all, nowMs: Int64) -> [NearbyDriver] {
        var out: [NearbyDriver] = []
        nearest(to: point, k: k, maxRadiusMeters: maxRadiusMeters, statuses: statuses, nowMs: nowMs, into: &out)
        return out
    }

    /// Every fresh driver within `radiusMeters`, nearest first, whose status passes and (when given) whose
    /// position satisfies `predicate`; `limit` caps the answer at the nearest `limit`.
    public func within(radiusMeters: Double, of point: LatLng, statuses: StatusFilter = .all, nowMs: Int64,
                       limit: Int = .max, where predicate: ((LatLng) -> Bool)? = nil) -> [NearbyDriver] {
        guard radiusMeters >= 0, limit > 0 else { return [] }
        search(point: point, k: limit, radius: radiusMeters, statuses: statuses, nowMs: nowMs, predicate: predicate)
        var out: [NearbyDriver] = []
        emitBest(into: &out)
        return out
    }

    /// The k nearest by scanning every row: the obviously right twin the index is tested and benchmarked against.
    public func nearestByScan(to point: LatLng, k: Int, maxRadiusMeters: Double = .infinity,
                              statuses: StatusFilter = .all, nowMs: Int64) -> [NearbyDriver] {
        guard k > 0 else { return [] }
        scan(point: point, k: k, radius: maxRadiusMeters, statuses: statuses, nowMs: nowMs, predicate: nil)
        lastSearch = SearchReport(path: .scan, cellsVisited: 0)
        var out: [NearbyDriver] = []
        emitBest(into: &out)
        return out
    }

    /// What a query did, for tests and diagnostics: filled once per query from counters the search keeps anyway.
    package struct SearchReport: Sendable, Equatable {
        /// How the answer was found.
        package enum Path: Sendable, Equatable {
            /// Best-first over the cell buckets.
            case cells
            /// The cell search gave up past its visited-cell budget and read every row.
            case scanPastCellBudget
            /// Every row read by request (`nearestByScan`).
            case scan
        }
        /// How the answer was found.
        package var path: Path
        /// Cells visited by the cell search before it finished or gave up (0 for `.scan`).
        package var cellsVisited: Int
    }

    // MARK: - Internals

    @inline(__always)
    func distance(_ p: LatLng, cosLat: Double, row r: Int) -> Double {
        let lat = Double(rows[r].latE7) * (Double.pi / 180e7)
        var dLng = Double(rows[r].lngE7) * (Double.pi / 180e7) - p.lng
        // Same normalization as the indexed search, so both paths give bit-identical distances.
        if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
        let sLat = sin((lat - p.lat) * 0.5), sLng = sin(dLng * 0.5)
        let h = sLat * sLat + cosLat * cos(lat) * sLng * sLng
        return 2 * asin(min(1, h.squareRoot())) * Geodesy.earthRadiusMeters
    }

    /// Every row, in order: the fallback when the fleet is too sparse for cells to pay off.
    func scan(point: LatLng, k: Int, radius: Double, statuses: StatusFilter, nowMs: Int64,
              predicate: ((LatLng) -> Bool)?) {
        scratch.begin()
        let cutoff = nowMs - staleAfterMs
        let cosLat = cos(point.lat)
        for r in 0..<rows.count where statuses.admits(rows[r].status) && rows[r].timestampMs >= cutoff {
            let d = distance(point, cosLat: cosLat, row: r)
            guard d <= radius else { continue }
            if let predicate, !predicate(LatLng(degrees: Double(rows[r].latE7) * 1e-7, Double(rows[r].lngE7) * 1e-7)) { continue }
            scratch.offer(distance: d, row: UInt32(r), id: rows[r].id, k: k)
        }
    }

    func search(point: LatLng, k: Int, radius: Double, statuses: StatusFilter, nowMs: Int64,
                predicate: ((LatLng) -> Bool)? = nil) {
        scratch.begin()
        guard !rows.isEmpty else { lastSearch = SearchReport(path: .cells, cellsVisited: 0); return }
        // Where the fleet is sparse around the query (empty oceans, polar rows), walking empty cells would
        // cost more than reading every row; past this many cells the search switches to a scan, which is
        // just as exact and bounds the worst case at O(n).
        let cellBudget = max(64, rows.count / 16)
        let cutoff = nowMs - staleAfterMs
        let cosLat = cos(point.lat)
        let cellRadius = scheme.maxCellRadiusMeters
        // A local reference to the rows: one exclusivity check per query instead of one per row.
        let rowList = rows
        let start = scheme.cell(of: point)
        _ = scratch.visit(start)
        scratch.pushFrontier(start, bound: 0)
        while let (bound, cell) = scratch.popFrontier() {
            let limit = scratch.bestDistance.count == k ? min(radius, scratch.worstDistance) : radius
            if bound > limit { break }
            var r = buckets.head(cell)
            var hLimit = Self.haversineH(forMeters: limit)
            while r != Self.none {
                let row = rowList[Int(r)]
                let slot = r
                r = row.next
                guard statuses.admits(row.status), row.timestampMs >= cutoff else { continue }
                let lat = Double(row.latE7) * (Double.pi / 180e7)
                let dLat = lat - point.lat
                var dLng = Double(row.lngE7) * (Double.pi / 180e7) - point.lng
                if dLng > Double.pi { dLng -= 2 * Double.pi } else if dLng < -Double.pi { dLng += 2 * Double.pi }
                // Arithmetic-only lower bound first: most rows in a scanned cell are farther than the k-th best.
                if Self.haversineLowerBound(dLat: dLat, dLng: dLng, cosLat: cosLat) > hLimit * (1 + 1e-9) { continue }
                let sLat = sin(dLat * 0.5), sLng = sin(dLng * 0.5)
                let h = sLat * sLat + cosLat * cos(lat) * sLng * sLng
                let d = 2 * asin(min(1, h.squareRoot())) * Geodesy.earthRadiusMeters
                guard d <= radius else { continue }
                if let predicate, !predicate(LatLng(degrees: Double(row.latE7) / 1e7, Double(row.lngE7) / 1e7)) { continue }
                scratch.offer(distance: d, row: slot, id: row.id, k: k)
                if scratch.bestDistance.count == k { hLimit = Self.haversineH(forMeters: min(radius, scratch.worstDistance)) }
            }
            // Borrow the buffers out of the scratch (a move, no copy): two inout borrows of one struct conflict.
            var neighbors: [UInt64] = [], disk: [H3Cell] = []
            swap(&neighbors, &scratch.neighborBuffer)
            swap(&disk, &scratch.diskBuffer)
            defer { swap(&neighbors, &scratch.neighborBuffer); swap(&disk, &scratch.diskBuffer) }
            neighbors.removeAll(keepingCapacity: true)
            scheme.neighbors(of: cell, into: &neighbors, scratch: &disk)
            let newLimit = scratch.bestDistance.count == k ? min(radius, scratch.worstDistance) : radius
            if scratch.visitedCount + neighbors.count > cellBudget {
                let visited = scratch.visitedCount
                scan(point: point, k: k, radius: radius, statuses: statuses, nowMs: nowMs, predicate: predicate)
                lastSearch = SearchReport(path: .scanPastCellBudget, cellsVisited: visited)
                return
            }
            for n in neighbors where scratch.visit(n) {
                let c = scheme.center(of: n)
                let b = max(0, Geodesy.distanceMeters(point, c) - cellRadius)
                if b <= newLimit { scratch.pushFrontier(n, bound: b) }
            }
        }
        lastSearch = SearchReport(path: .cells, cellsVisited: scratch.visitedCount)
    }

    /// The haversine term h = sin²(d / 2R) of a distance (∞ for distances past the antipode).
    @inline(__always)
    static func haversineH(forMeters d: Double) -> Double {
        let half = d / (2 * Geodesy.earthRadiusMeters)
        guard half < Double.pi / 2 else { return .infinity }
        let s = sin(half)
        return s * s
    }

    /// A lower bound on h = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2) without trigonometry: sin x ≥ x − x³/6 for
    /// 0 ≤ x ≤ π/2, and cos φ₂ ≥ cos φ₁ − |Δφ|. `dLng` must be in [−π, π].
    @inline(__always)
    static func haversineLowerBound(dLat: Double, dLng: Double, cosLat: Double) -> Double {
        let x1 = abs(dLat) * 0.5, x2 = abs(dLng) * 0.5
        let s1 = x1 - x1 * x1 * x1 / 6, s2 = x2 - x2 * x2 * x2 / 6
        return s1 * s1 + cosLat * max(0, cosLat - abs(dLat)) * s2 * s2
    }

    func emitBest(into out: inout [NearbyDriver]) {
        let n = scratch.bestDistance.count
        guard n > 0 else { return }
        // Heap order → sorted order through a reused index buffer, so a query allocates nothing here.
        var order: [Int] = []
        swap(&order, &scratch.order)
        defer { swap(&order, &scratch.order) }
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<n)
        let distance = scratch.bestDistance, id = scratch.bestID
        order.sort { distance[$0] < distance[$1] || (distance[$0] == distance[$1] && id[$0] < id[$1]) }
        out.reserveCapacity(out.count + n)
        for i in order {
            out.append(NearbyDriver(state: state(row: Int(scratch.bestRow[i])), distanceMeters: scratch.bestDistance[i]))
        }
    }

}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Vocabulary

/// An immutable snapshot of couriers with a uniform latitude/longitude grid, answering
/// `CourierSource` queries; cheap to build per round and safe to read from any thread.
public struct CourierSnapshotIndex: CourierSource, Sendable {
    /// Every courier of the snapshot.
    public let couriers: [CourierSnapshot]
    private let cellDegrees: Double
    private let cells: [Int64: [Int32]]
    /// Unit vectors of the positions: a chord comparison needs no trigonometry per courier.
    private let unit: [SIMD3<Double>]
    private let statusBits: [UInt8]
    private let vehicleBits: [UInt8]
    private let ids: [UInt64]

    /// Indexes `couriers`; couriers with invalid positions are left out of queries.
    /// - Parameter cellMeters: grid cell edge (north–south); about the usual search radius / 2.
    public init(_ couriers: [CourierSnapshot], cellMeters: Double = 1_000) {
        self.couriers = couriers
        let deg = max(1, cellMeters) / Geodesy.earthRadiusMeters * 180 / Double.pi
        self.cellDegrees = deg
        var cells: [Int64: [Int32]] = [:]
        for (k, c) in couriers.enumerated() where c.position.isValid {
            cells[Self.key(Self.cell(c.position.latDegrees, deg), Self.cell(c.position.lngDegrees, deg)), default: []]
                .append(Int32(k))
        }
        self.cells = cells
        self.unit = couriers.map { $0.position.unitVector }
        self.statusBits = couriers.map { 1 << $0.status.rawValue }
        self.vehicleBits = couriers.map { 1 << $0.vehicle.rawValue }
        self.ids = couriers.map(\.id.rawValue)
    }

    static func cell(_ degrees: Double, _ size: Double) -> Int64 { Int64((degrees / size).rounded(.down)) }
    static func key(_ a: Int64, _ b: Int64) -> Int64 { (a << 32) ^ (b & 0xFFFF_FFFF) }

    /// Nearest-first couriers within the radius, found by rings of grid cells around the point:
    /// a ring is opened only while it can still hold something nearer than the `limit`-th found.
    public func candidates(
        near point: LatLng, radiusMeters: Double, statuses: StatusFilter, vehicles: VehicleSet, limit: Int
    ) -> [CourierSnapshot] {
        guard point.isValid, radiusMeters >= 0, radiusMeters.isFinite, limit > 0, !cells.isEmpty else { return [] }
        let metersPerDegree = Geodesy.earthRadiusMeters * Double.pi / 180
        let dLat = radiusMeters / metersPerDegree
        let cosLat = cos(min(89.9, abs(point.latDegrees) + dLat) * Double.pi / 180)
        let dLng = min(180, dLat / max(cosLat, 1e-6))
        let la0 = Self.cell(point.latDegrees - dLat, cellDegrees), la1 = Self.cell(point.latDegrees + dLat, cellDegrees)
        let lo0 = Self.cell(point.lngDegrees - dLng, cellDegrees), lo1 = Self.cell(point.lngDegrees + dLng, cellDegrees)
        var found: [(chord2: Double, index: Int32)] = []
        if (la1 - la0 + 1) * (lo1 - lo0 + 1) > Int64(cells.count) * 4 {
            // A huge radius: scanning the occupied cells is cheaper than walking the empty ones.
            for bucket in cells.values { collect(bucket, point, radiusMeters, statuses, vehicles, &found) }
        } else {
            let ca = Self.cell(point.latDegrees, cellDegrees), cb = Self.cell(point.lngDegrees, cellDegrees)
            // Any point in ring r (Chebyshev distance r cells from the point's cell) is at least
            // (r - 1) cells away along a meridian or a parallel; 0.99 absorbs the sphere's curvature.
            let ringStepMeters = 0.99 * cellDegrees * metersPerDegree * min(1, cosLat)
            let maxRing = max(ca - la0, la1 - ca, cb - lo0, lo1 - cb)
            var r: Int64 = 0
            while r <= maxRing {
                for a in max(la0, ca - r)...min(la1, ca + r) {
                    let edge = a == ca - r || a == ca + r
                    if edge {
                        for b in max(lo0, cb - r)...min(lo1, cb + r) {
                            if let bucket = cells[Self.key(a, b)] { collect(bucket, point, radiusMeters, statuses, vehicles, &found) }
                        }
                    } else {
                        if cb - r >= lo0, let bucket = cells[Self.key(a, cb - r)] {
                            collect(bucket, point, radiusMeters, statuses, vehicles, &found)
                        }
                        if r > 0, cb + r <= lo1, let bucket = cells[Self.key(a, cb + r)] {
                            collect(bucket, point, radiusMeters, statuses, vehicles, &found)
                        }
                    }
                }
                if found.count >= limit {
                    // Stop once the next ring cannot beat the limit-th nearest found so far.
                    var ds = found.map(\.chord2)
                    let kth = Self.meters(chord2: Self.kthSmallest(&ds, limit - 1))
                    if Double(r) * ringStepMeters > kth { break }
                }
                r += 1
            }
        }
        if found.count > limit {
            // Keep only what can make the cut before sorting.
            var ds = found.map(\.chord2)
            let kth = Self.kthSmallest(&ds, limit - 1)
            found.removeAll { $0.chord2 > kth }
        }
        let ids = self.ids
        found.sort { ($0.chord2, ids[Int($0.index)]) < ($1.chord2, ids[Int($1.index)]) }
        return found.prefix(limit).map { couriers[Int($0.index)] }
    }

    /// Great-circle meters for a squared chord between unit vectors.
    static func meters(chord2: Double) -> Double {
        2 * asin(min(1, chord2.squareRoot() * 0.5)) * Geodesy.earthRadiusMeters
    }

    /// The k-th smallest value (0-based) by quickselect; reorders `values`.
    static func kthSmallest(_ values: inout [Double], _ k: Int) -> Double {
        var lo = 0, hi = values.count - 1
        while lo < hi {
            let pivot = values[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return values[k] }
        }
        return values[k]
    }

    private func collect(
        _ bucket: [Int32], _ point: LatLng, _ radius: Double, _ statuses: StatusFilter, _ vehicles: VehicleSet,
        _ found: inout [(chord2: Double, index: Int32)]
    ) {
        // Chord length c and great-circle angle θ: c = 2 sin(θ/2), monotonic, so the radius test is on c².
        let p = point.unitVector
        let angle = radius / Geodesy.earthRadiusMeters
        let maxChord2 = angle >= Double.pi ? 4.0 : { let c = 2 * sin(angle / 2); return c * c }()
        let sMask = statuses.rawValue, vMask = vehicles.rawValue
        for k in bucket {
            let i = Int(k)
            guard statusBits[i] & sMask != 0, vehicleBits[i] & vMask != 0 else { continue }
            let d = unit[i] - p
            let c2 = (d * d).sum()
            if c2 <= maxChord2 { found.append((c2, k)) }
        }
    }
}

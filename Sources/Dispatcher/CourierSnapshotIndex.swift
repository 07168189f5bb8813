#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable snapshot of couriers with a uniform latitude/longitude grid, answering
/// `CourierSource` queries; cheap to build per round and safe to read from any thread.
public struct CourierSnapshotIndex: CourierSource, Sendable {
    /// Every courier of the snapshot.
    public let couriers: [CourierSnapshot]
    private let cellDegrees: Double
    private let cells: [Int64: [Int32]]

    /// Indexes `couriers`; couriers with invalid positions are left out of queries.
    /// - Parameter cellMeters: grid cell edge (north–south); about the usual search radius / 2.
    public init(_ couriers: [CourierSnapshot], cellMeters: Double = 1_000) {
        self.couriers = couriers
        let deg = max(1, cellMeters) / GeoPoint.earthRadiusMeters * 180 / Double.pi
        self.cellDegrees = deg
        var cells: [Int64: [Int32]] = [:]
        for (k, c) in couriers.enumerated() where c.position.isValid {
            cells[Self.key(Self.cell(c.position.latitudeDegrees, deg), Self.cell(c.position.longitudeDegrees, deg)), default: []]
                .append(Int32(k))
        }
        self.cells = cells
    }

    static func cell(_ degrees: Double, _ size: Double) -> Int64 { Int64((degrees / size).rounded(.down)) }
    static func key(_ a: Int64, _ b: Int64) -> Int64 { (a << 32) ^ (b & 0xFFFF_FFFF) }

    public func candidates(
        near point: GeoPoint, radiusMeters: Double, statuses: CourierStatusSet, vehicles: VehicleSet, limit: Int
    ) -> [CourierSnapshot] {
        guard point.isValid, radiusMeters >= 0, limit > 0 else { return [] }
        let dLat = radiusMeters / GeoPoint.earthRadiusMeters * 180 / Double.pi
        let cosLat = cos(min(89.9, abs(point.latitudeDegrees) + dLat) * Double.pi / 180)
        let dLng = min(180, dLat / max(cosLat, 1e-6))
        let la0 = Self.cell(point.latitudeDegrees - dLat, cellDegrees), la1 = Self.cell(point.latitudeDegrees + dLat, cellDegrees)
        let lo0 = Self.cell(point.longitudeDegrees - dLng, cellDegrees), lo1 = Self.cell(point.longitudeDegrees + dLng, cellDegrees)
        var found: [(distance: Double, index: Int32)] = []
        if (la1 - la0 + 1) * (lo1 - lo0 + 1) > Int64(cells.count) * 4 {
            // A huge radius: scanning the occupied cells is cheaper than walking the empty ones.
            for bucket in cells.values { collect(bucket, point, radiusMeters, statuses, vehicles, &found) }
        } else {
            for a in la0...la1 {
                for b in lo0...lo1 {
                    if let bucket = cells[Self.key(a, b)] { collect(bucket, point, radiusMeters, statuses, vehicles, &found) }
                }
            }
        }
        found.sort { ($0.distance, couriers[Int($0.index)].id) < ($1.distance, couriers[Int($1.index)].id) }
        return found.prefix(limit).map { couriers[Int($0.index)] }
    }

    private func collect(
        _ bucket: [Int32], _ point: GeoPoint, _ radius: Double, _ statuses: CourierStatusSet, _ vehicles: VehicleSet,
        _ found: inout [(distance: Double, index: Int32)]
    ) {
        for k in bucket {
            let c = couriers[Int(k)]
            guard statuses.contains(c.status), vehicles.contains(c.vehicle) else { continue }
            let d = point.distanceMeters(to: c.position)
            if d <= radius { found.append((d, k)) }
        }
    }
}

import Dispatcher
import Foundation
import Vocabulary

/// Inputs for the Dispatcher benchmarks, built once outside the measured code: the shared
/// assignment instances and a seeded synthetic city for dispatch rounds.
enum DispatcherWorkloads {
    /// The shared data folder: `HEXFLEET_SHARED_DATA`, else `../shared/data` beside the repo.
    static var sharedData: String {
        if let env = ProcessInfo.processInfo.environment["HEXFLEET_SHARED_DATA"] { return env }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { url.deleteLastPathComponent() }   // Benchmarks/Benchmarks/DispatcherBenchmarks/<file>
        return url.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// A shared instance, e.g. `square-1000-dense`; nil when the file is missing or malformed.
    static func instance(_ name: String) -> AssignmentInstance? {
        guard let data = FileManager.default.contents(atPath: "\(sharedData)/assignment/\(name).txt") else { return nil }
        return try? data.withUnsafeBytes { (p) throws(AssignmentParseError) in try AssignmentInstance(parsing: p) }
    }

    /// A small deterministic generator (SplitMix64).
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A city of `couriers` couriers and `orders` waiting orders spread over about 12 × 12 km
    /// around Monaco's latitude, orders waiting up to 5 minutes, mixed vehicles and statuses.
    static func city(orders: Int, couriers: Int, seed: UInt64) -> (orders: [WaitingOrder], couriers: CourierSnapshotIndex, nowMs: Int64) {
        var g = Generator(state: seed)
        let lat0 = 43.70, lng0 = 7.35, spanLat = 0.11, spanLng = 0.15
        let nowMs: Int64 = 1_800_000_000_000
        let os = (0..<orders).map { k in
            WaitingOrder(
                id: OrderID(UInt64(k)),
                pickup: LatLng(degrees: lat0 + .random(in: 0..<spanLat, using: &g),  lng0 + .random(in: 0..<spanLng, using: &g)),
                createdAtMs: nowMs - .random(in: 0...300_000, using: &g), sizeUnits: .random(in: 1...2, using: &g),
                allowedVehicles: Int.random(in: 0..<10, using: &g) == 0 ? [VehicleSet(.car), VehicleSet(.van)] : .all)
        }
        let cs = (0..<couriers).map { k in
            CourierSnapshot(
                id: CourierID(UInt64(k)),
                position: LatLng(degrees: lat0 + .random(in: 0..<spanLat, using: &g),  lng0 + .random(in: 0..<spanLng, using: &g)),
                status: Int.random(in: 0..<10, using: &g) < 8 ? .available : .onTrip,
                vehicle: VehicleType.allCases.randomElement(using: &g)!, capacityUnits: .random(in: 1...3, using: &g),
                idleSinceMs: nowMs - .random(in: 0...900_000, using: &g), recentAssignments: .random(in: 0...6, using: &g))
        }
        return (os, CourierSnapshotIndex(cs, cellMeters: 1_000), nowMs)
    }
}

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

    /// A lunch peak for the stacking round: `couriers` couriers over the same 12 × 12 km, 60 % of them busy (one or
    /// two orders each: on board, or promised pickup and drop-off, picked at restaurants), and `orders` waiting
    /// orders from 60 restaurant hot spots, food ready within 15 minutes, delivered within 45; straight-line travel
    /// at 6 m/s (the round reads about 1M travel times, a road matrix of that many locations would not fit).
    static func lunchPeak(orders: Int, couriers: Int, seed: UInt64) -> (instance: PlanInstance, travel: StraightLineTravelTimes) {
        var g = Generator(state: seed)
        let lat0 = 43.70, lng0 = 7.35, spanLat = 0.11, spanLng = 0.15
        var points = [(lat: Double, lng: Double)]()
        func point() -> Int {
            points.append((lat0 + .random(in: 0..<spanLat, using: &g), lng0 + .random(in: 0..<spanLng, using: &g)))
            return points.count - 1
        }
        let restaurants = (0..<60).map { _ in point() }
        var planOrders = [PlanOrder]()
        var planCouriers = [PlanCourier]()
        var nextID: UInt64 = 1
        func newOrder(now: Double) -> PlanOrder {
            defer { nextID += 1 }
            let ready = now + .random(in: 0...900, using: &g)
            return PlanOrder(id: OrderID(nextID), pickup: restaurants.randomElement(using: &g)!, dropoff: point(),
                             readyAt: ready, deadline: now + 2_700, maxRide: 2_400, service: 60)
        }
        for k in 0..<couriers {
            var courier = PlanCourier(id: CourierID(UInt64(k + 1)), start: point(), availableAt: 0,
                                      capacity: Int.random(in: 0..<10, using: &g) < 7 ? 3 : 2)
            if Int.random(in: 0..<10, using: &g) < 6 {
                let first = newOrder(now: 0)
                planOrders.append(first)
                if Bool.random(using: &g) {
                    // On board: only its drop-off is left; the deadline gives it room.
                    planOrders[planOrders.count - 1].deadline = 7_200
                    courier.stops = [PlanStop(order: first.id, kind: .dropoff)]
                } else {
                    planOrders[planOrders.count - 1].deadline = 7_200
                    planOrders[planOrders.count - 1].maxRide = 7_200
                    courier.stops = [PlanStop(order: first.id, kind: .pickup), PlanStop(order: first.id, kind: .dropoff)]
                }
            }
            planCouriers.append(courier)
        }
        for _ in 0..<orders { planOrders.append(newOrder(now: 0)) }
        let travel = StraightLineTravelTimes(latLng: points, speedMetersPerSecond: 6)
        return (PlanInstance(locationCount: points.count, matrix: [], couriers: planCouriers, orders: planOrders), travel)
    }
}

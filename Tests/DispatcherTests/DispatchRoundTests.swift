#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TestSupport
@testable import Dispatcher
import Vocabulary

/// An ETA provider answering from a fixed table keyed by exact positions (for hand-built rounds).
struct TableETA: ETAProvider {
    let seconds: [LatLng: [LatLng: Double]]
    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        sources.flatMap { s in targets.map { t in seconds[s]?[t] ?? .infinity } }
    }
}

struct FailingETA: ETAProvider {
    var shapeOnly = false
    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        if shapeOnly { return [1] }
        throw ETAProviderError("no graph")
    }
}

@Suite("Dispatch round")
struct DispatchRoundTests {
    static let center = LatLng(degrees: 43.7384, 7.4246)   // Monaco
    /// A point `east` meters east and `north` meters north of the center.
    static func at(east: Double, north: Double = 0) -> LatLng {
        let dLat = north / Geodesy.earthRadiusMeters * 180 / .pi
        let dLng = east / (Geodesy.earthRadiusMeters * cos(center.latDegrees * .pi / 180)) * 180 / .pi
        return LatLng(degrees: center.latDegrees + dLat, center.lngDegrees + dLng)
    }

    @Test("candidates respect status, vehicle, capacity, open offers, past declines and the radius")
    func candidateFilters() throws {
        let order = WaitingOrder(id: OrderID(1), pickup: Self.center, createdAtMs: 0, sizeUnits: 2, allowedVehicles: [VehicleSet(.car), VehicleSet(.van)])
        let couriers = [
            CourierSnapshot(id: CourierID(1), position: Self.at(east: 100), vehicle: .car, capacityUnits: 4),      // ok
            CourierSnapshot(id: CourierID(2), position: Self.at(east: 50), status: .onTrip, vehicle: .car, capacityUnits: 4),
            CourierSnapshot(id: CourierID(3), position: Self.at(east: 60), vehicle: .bicycle, capacityUnits: 4),
            CourierSnapshot(id: CourierID(4), position: Self.at(east: 70), vehicle: .van, capacityUnits: 1),
            CourierSnapshot(id: CourierID(5), position: Self.at(east: 80), vehicle: .van, capacityUnits: 2),       // busy
            CourierSnapshot(id: CourierID(6), position: Self.at(east: 90), vehicle: .van, capacityUnits: 2),       // declined before
            CourierSnapshot(id: CourierID(7), position: Self.at(east: 5_000), vehicle: .van, capacityUnits: 2),    // beyond 3 km
        ]
        var round = DispatchRound(
            orders: [order], couriers: CourierSnapshotIndex(couriers), eta: StraightLineETAProvider(), policy: .batchOptimal,
            nowMs: 0, excludedPairs: [OfferPair(order: OrderID(1), courier: CourierID(6))], busyCouriers: [CourierID(5)])
        var priced = try round.candidates()
        #expect(priced.couriers.map(\.id) == [CourierID(1)])
        // After three minutes of waiting the radius is 6 km and reaches courier 7.
        round.nowMs = 180_000
        priced = try round.candidates()
        #expect(priced.couriers.map(\.id) == [CourierID(1), CourierID(7)])
        let plan = try round.run()
        #expect(plan.assignments.map(\.courier) == [CourierID(1)])
    }

    @Test("greedy serves orders first come first served; batch-optimal minimizes the total")
    func greedyVersusOptimal() throws {
        let p1 = Self.at(east: 0), p2 = Self.at(east: 1_000), a = Self.at(east: 10), b = Self.at(east: 20)
        let eta = TableETA(seconds: [a: [p1: 100, p2: 110], b: [p1: 120, p2: 1_000]])
        let orders = [
            WaitingOrder(id: OrderID(2), pickup: p2, createdAtMs: 5),
            WaitingOrder(id: OrderID(1), pickup: p1, createdAtMs: 0),   // older: greedy serves it first
        ]
        let couriers = CourierSnapshotIndex([
            CourierSnapshot(id: CourierID(10), position: a), CourierSnapshot(id: CourierID(20), position: b),
        ])
        var config = DispatchConfig()
        config.costModel = DispatchCostModel()
        config.costModel.orderWaitWeight = 0
        config.costModel.courierIdleWeight = 0
        let greedy = try DispatchRound(orders: orders, couriers: couriers, eta: eta, policy: .greedyNearest, config: config, nowMs: 10).run()
        #expect(greedy.assignments.map(\.order) == [OrderID(1), OrderID(2)])
        #expect(greedy.assignments.map(\.courier) == [CourierID(10), CourierID(20)])
        #expect(greedy.totalCost == 1_100)
        let optimal = try DispatchRound(orders: orders, couriers: couriers, eta: eta, policy: .batchOptimal, config: config, nowMs: 10).run()
        #expect(optimal.assignments.map(\.courier) == [CourierID(20), CourierID(10)])
        #expect(optimal.totalCost == 230)
    }

    @Test("with fewer couriers than orders, batch-optimal serves as many orders as it can and reports the rest")
    func scarceCouriers() throws {
        let orders = (0..<5).map { WaitingOrder(id: OrderID(UInt64($0)), pickup: Self.at(east: Double($0) * 200), createdAtMs: 0) }
        let couriers = CourierSnapshotIndex((0..<2).map { CourierSnapshot(id: CourierID(UInt64($0)), position: Self.at(east: 400, north: Double($0) * 50)) })
        let plan = try DispatchRound(orders: orders, couriers: couriers, eta: StraightLineETAProvider(), policy: .batchOptimal, nowMs: 0).run()
        #expect(plan.assignments.count == 2)
        #expect(plan.unassigned.count == 3)
        #expect(Set(plan.assignments.map(\.courier)).count == 2)
    }

    @Test("batch-optimal never costs more than greedy on random rounds, and both use each courier once", arguments: UInt64(1)...UInt64(25))
    func optimalBeatsGreedy(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let orders = (0..<Int.random(in: 1...60, using: &rng)).map { k in
            WaitingOrder(id: OrderID(UInt64(k)), pickup: Self.at(east: .random(in: -4_000...4_000, using: &rng), north: .random(in: -4_000...4_000, using: &rng)),
                         createdAtMs: .random(in: 0...600_000, using: &rng), sizeUnits: .random(in: 1...2, using: &rng),
                         allowedVehicles: Bool.random(using: &rng) ? .all : VehicleSet(.car))
        }
        let couriers = (0..<Int.random(in: 1...80, using: &rng)).map { k in
            CourierSnapshot(id: CourierID(UInt64(k)), position: Self.at(east: .random(in: -5_000...5_000, using: &rng), north: .random(in: -5_000...5_000, using: &rng)),
                            status: Int.random(in: 0..<5, using: &rng) == 0 ? .onTrip : .available,
                            vehicle: VehicleType.allCases.randomElement(using: &rng)!, capacityUnits: .random(in: 1...3, using: &rng),
                            idleSinceMs: .random(in: 0...600_000, using: &rng), recentAssignments: .random(in: 0...5, using: &rng))
        }
        let index = CourierSnapshotIndex(couriers, cellMeters: 700)
        let config = DispatchConfig()
        func score(_ p: DispatchPlan) -> Double { p.totalCost + Double(p.unassigned.count) * config.unassignedPenalty }
        let g = try DispatchRound(orders: orders, couriers: index, eta: StraightLineETAProvider(), policy: .greedyNearest, nowMs: 700_000).run()
        let o = try DispatchRound(orders: orders, couriers: index, eta: StraightLineETAProvider(), policy: .batchOptimal, nowMs: 700_000).run()
        #expect(score(o) <= score(g) + 1e-6, "seed \(seed): optimal \(score(o)) > greedy \(score(g))")
        for plan in [g, o] {
            #expect(Set(plan.assignments.map(\.courier)).count == plan.assignments.count, "seed \(seed): a courier twice")
            #expect(plan.assignments.count + plan.unassigned.count == orders.count, "seed \(seed)")
            for a in plan.assignments {
                let c = try #require(couriers.first { $0.id == a.courier })
                let ord = try #require(orders.first { $0.id == a.order })
                #expect(c.status == .available && ord.allowedVehicles.contains(c.vehicle) && c.capacityUnits >= ord.sizeUnits,
                        "seed \(seed): \(a) breaks a filter")
            }
        }
    }

    @Test("ETA provider failures are typed errors, not traps")
    func etaFailures() {
        let orders = [WaitingOrder(id: OrderID(1), pickup: Self.center, createdAtMs: 0)]
        let couriers = CourierSnapshotIndex([CourierSnapshot(id: CourierID(1), position: Self.at(east: 10))])
        #expect(throws: DispatchError.eta(ETAProviderError("no graph"))) {
            try DispatchRound(orders: orders, couriers: couriers, eta: FailingETA(), policy: .batchOptimal, nowMs: 0).run()
        }
        #expect(throws: DispatchError.etaShape(expected: 2, got: 1)) {
            try DispatchRound(orders: orders + [WaitingOrder(id: OrderID(2), pickup: Self.center, createdAtMs: 0)],
                              couriers: couriers, eta: FailingETA(shapeOnly: true), policy: .greedyNearest, nowMs: 0).run()
        }
    }

    @Test("a round runs on another thread from Sendable values")
    func runsOnWorker() async throws {
        let round = DispatchRound(
            orders: [WaitingOrder(id: OrderID(1), pickup: Self.center, createdAtMs: 0)],
            couriers: CourierSnapshotIndex([CourierSnapshot(id: CourierID(9), position: Self.at(east: 300))]),
            eta: StraightLineETAProvider(), policy: .batchOptimal, nowMs: 1_000)
        let plan = try await Task.detached { try round.run() }.value
        #expect(plan.assignments.first?.courier == CourierID(9))
    }

    @Test("the grid index returns exactly the linear scan's nearest couriers", arguments: UInt64(1)...UInt64(10))
    func indexMatchesScan(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let couriers = (0..<400).map { k in
            CourierSnapshot(id: CourierID(UInt64(k)), position: Self.at(east: .random(in: -8_000...8_000, using: &rng), north: .random(in: -8_000...8_000, using: &rng)),
                            status: Bool.random(using: &rng) ? .available : .toPickup, vehicle: VehicleType.allCases.randomElement(using: &rng)!)
        }
        let index = CourierSnapshotIndex(couriers, cellMeters: .random(in: 200...3_000, using: &rng))
        for _ in 0..<30 {
            let p = Self.at(east: .random(in: -9_000...9_000, using: &rng), north: .random(in: -9_000...9_000, using: &rng))
            let radius = Double.random(in: 0...6_000, using: &rng), limit = Int.random(in: 1...50, using: &rng)
            let want = couriers.filter { $0.status == .available && $0.vehicle != .van && Geodesy.distanceMeters(p, $0.position) <= radius }
                .sorted { (Geodesy.distanceMeters(p, $0.position), $0.id) < (Geodesy.distanceMeters(p, $1.position), $1.id) }
                .prefix(limit).map(\.id)
            let got = index.candidates(near: p, radiusMeters: radius, statuses: .available,
                                       vehicles: [VehicleSet(.bicycle), VehicleSet(.scooter), VehicleSet(.car)], limit: limit).map(\.id)
            #expect(got == Array(want), "seed \(seed)")
        }
    }

    @Test("straight-line ETAs are haversine distance × detour / speed, and ∞ for invalid points")
    func straightLine() throws {
        let eta = StraightLineETAProvider(speedMetersPerSecond: 10, detourFactor: 1.5)
        let a = Self.center, b = Self.at(east: 3_000, north: 4_000), bad = LatLng(degrees: 91, 0)
        let m = try eta.etaSeconds(from: [a, bad], to: [b, a])
        #expect(abs(m[0] - Geodesy.distanceMeters(a, b) * 1.5 / 10) < 1e-6)
        #expect(abs(Geodesy.distanceMeters(a, b) - 5_000) < 5)
        #expect(m[1] == 0)
        #expect(m[2] == .infinity && m[3] == .infinity)
    }
}

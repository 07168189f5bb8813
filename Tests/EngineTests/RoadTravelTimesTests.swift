import Dispatcher
import Foundation
import Routing
import Testing
import TestSupport
import Vocabulary
@testable import Engine

/// The stacking round's road legs against the single-order rounds' ETA provider on the real Monaco graph: snapped
/// points, each courier on its vehicle's profile.
@Suite struct RoadTravelTimesTests {
    static let car = Result { try RoadNetwork.importPBF(path: OrdersFixture.monaco) }
    static let bicycle = Result { try RoadNetwork.importPBF(path: OrdersFixture.monaco, profile: RoutingProfile.bicycle.rules) }

    /// Random points near Monaco's roads (a few metres off a node, as GPS fixes are), plus one far out at sea.
    static func points(_ network: RoadNetwork, count: Int, seed: UInt64) -> [LatLng] {
        var rng = SeededRandom(seed: seed)
        let g = network.graph
        var out = (0..<count).map { _ -> LatLng in
            let v = Int.random(in: 0..<g.nodeCount, using: &rng)
            return LatLng(degrees: g.latDegrees[v] + Double.random(in: -0.0002...0.0002, using: &rng),
                          g.lngDegrees[v] + Double.random(in: -0.0002...0.0002, using: &rng))
        }
        out.append(LatLng(degrees: 43.60, 7.50))
        return out
    }

    @Test("every leg equals RoutingETAProvider's snapped many-to-many cell, on the car graph and on the bicycle graph")
    func legsEqualProvider() throws {
        let car = try Self.car.get(), bicycle = try Self.bicycle.get()
        let points = Self.points(car, count: 40, seed: 3)
        let travel = RoadTravelTimes(points: points, car: ProfileRoad(network: car, weights: car.freeFlow),
                                     others: [.bicycle: ProfileRoad(network: bicycle, weights: bicycle.freeFlow)])
        let byCar = try RoutingETAProvider(network: car).etaSeconds(from: points, to: points)
        let byBicycle = try RoutingETAProvider(network: bicycle).etaSeconds(from: points, to: points)
        // Courier 0 drives a car, courier 1 rides a bicycle, courier 2 a scooter (no scooter graph: the car's).
        let couriers = (1...3).map { PlanCourier(id: CourierID(UInt64($0)), start: 0, availableAt: 0, capacity: 2) }
        travel.bind(couriers: couriers, vehicles: [CourierID(2): .bicycle, CourierID(3): .scooter])
        var differ = 0, reachable = 0, profilesDiffer = 0
        let n = points.count
        for a in 0..<n {
            for b in 0..<n {
                let c = byCar[a * n + b], k = byBicycle[a * n + b]
                let expectedCar = a == b ? 0 : c, expectedBicycle = a == b ? 0 : k
                if travel.seconds(a, b) != expectedCar || travel.seconds(a, b, courier: 0) != expectedCar
                    || travel.seconds(a, b, courier: 2) != expectedCar || travel.seconds(a, b, courier: 1) != expectedBicycle {
                    differ += 1
                }
                if c.isFinite { reachable += 1 }
                if c.isFinite, k.isFinite, abs(c - k) > 1 { profilesDiffer += 1 }
            }
        }
        #expect(differ == 0, "\(differ) of \(n * n) legs differ from the provider")
        #expect(reachable > n * n / 2, "most pairs reachable on the car graph")
        #expect(profilesDiffer > 0, "the bicycle graph times legs differently from the car's")
        #expect(travel.seconds(0, n - 1) == .infinity && travel.seconds(n - 1, 0) == .infinity, "a point at sea is unreachable")
        #expect(travel.queries > 0 && travel.spacesSearched <= 2 * 2 * n, "each point's spaces searched at most once per profile")
    }
}

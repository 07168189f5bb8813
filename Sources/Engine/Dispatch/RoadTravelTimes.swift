import Dispatcher
import Routing
import Vocabulary

/// The road network and weights of one routing profile, as a dispatch round on a worker reads them.
public struct ProfileRoad: Sendable {
    public var network: RoadNetwork
    public var weights: RoutingWeights
    /// The network under `weights` (the live ones in the engine).
    public init(network: RoadNetwork, weights: RoutingWeights) { self.network = network; self.weights = weights }
}

/// Road travel seconds between a dispatch round's locations, for `StackingRound` and the live ETAs: snapped points
/// (a point enters the road at both ends of its nearest edge, as `/v1/eta` and the single-order rounds' many-to-many
/// do), each courier on its vehicle's profile (bicycles and scooters on their own graphs when loaded, the rest on
/// the car's).
///
/// Why search spaces and not a matrix or pair queries: a round over 2,000 couriers and 500 orders has thousands of
/// locations, so a full matrix would be millions of cells, while the planner reads only the legs around its
/// candidate insertions (tens of thousands, many sharing an end: a restaurant, a courier's next stop). Each point's
/// forward and backward upward search spaces are searched once, on first use, and a leg is then one merge of two
/// sorted spaces (`CHSearchSpace.meet`), the bucket many-to-many's rule applied to one pair, several times cheaper
/// than a point-to-point query. Legs are cached by (profile, snapped point, snapped point).
///
/// `@unchecked Sendable`: the caches and the search workspace are mutated by `seconds`, and a round reads it from
/// the one worker thread that runs it; nothing else holds it.
final class RoadTravelTimes: TravelTimes, @unchecked Sendable {
    let locationCount: Int
    private let points: [LatLng]
    private var profiles: [ProfileState]
    private let profileIndex: [RoutingProfile: Int]
    /// Profile (index into `profiles`) of each instance courier, set by `bind(couriers:vehicles:)`; car when unset.
    private var courierProfile: [Int] = []
    private var cache: [LegKey: Double] = [:]
    private let speedFactor: Double
    /// Legs computed (cache misses), for the benchmark and stats.
    private(set) var queries = 0
    /// Upward search spaces searched (two per snapped point at most, per profile).
    private(set) var spacesSearched = 0

    private struct LegKey: Hashable { var profile: Int32; var from: Int32; var to: Int32 }

    /// One profile's snapped points and their search spaces, filled lazily.
    private struct ProfileState {
        let road: ProfileRoad
        var matrix: CHMatrix
        /// Snapped point of each location: −2 not yet snapped, −1 off the road.
        var pointOf: [Int32]
        var memo: [LatLng: Int32] = [:]
        var snaps: [[(edge: Int, fraction: Double)]] = []
        var forward: [CHSearchSpace?] = []
        var backward: [CHSearchSpace?] = []
    }

    /// Travel between `points` on the car road `car` and the other loaded profiles' roads (`others`); a point farther
    /// than the snap radius from any road is unreachable. Times are the weights' divided by `speedFactor`.
    init(points: [LatLng], car: ProfileRoad, others: [RoutingProfile: ProfileRoad] = [:], speedFactor: Double = 1) {
        self.points = points
        locationCount = points.count
        var states = [ProfileState(road: car, matrix: CHMatrix(hierarchy: car.weights.hierarchy),
                                   pointOf: [Int32](repeating: -2, count: points.count))]
        var index: [RoutingProfile: Int] = [.car: 0]
        for (profile, road) in others.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where profile != .car {
            index[profile] = states.count
            states.append(ProfileState(road: road, matrix: CHMatrix(hierarchy: road.weights.hierarchy),
                                       pointOf: [Int32](repeating: -2, count: points.count)))
        }
        profiles = states
        profileIndex = index
        self.speedFactor = speedFactor > 0 && speedFactor.isFinite ? speedFactor : 1
        cache.reserveCapacity(8_192)
    }

    /// Convenience for one profile (cars) on `network` under `weights`.
    convenience init(points: [LatLng], network: RoadNetwork, weights: RoutingWeights, speedFactor: Double = 1) {
        self.init(points: points, car: ProfileRoad(network: network, weights: weights), speedFactor: speedFactor)
    }

    /// Names the vehicle of each courier of the instance the planner will read through `seconds(_:_:courier:)`
    /// (couriers missing from `vehicles` drive cars).
    func bind(couriers: [PlanCourier], vehicles: [CourierID: VehicleType]) {
        courierProfile = couriers.map { profileIndex[(vehicles[$0.id] ?? .car).routingProfile] ?? 0 }
    }

    /// The profile index a vehicle routes on (the car's when its profile is not loaded).
    func profile(of vehicle: VehicleType) -> Int { profileIndex[vehicle.routingProfile] ?? 0 }

    func seconds(_ from: Int, _ to: Int) -> Double { seconds(from, to, profile: 0) }

    func seconds(_ from: Int, _ to: Int, courier: Int) -> Double {
        seconds(from, to, profile: courier < courierProfile.count ? courierProfile[courier] : 0)
    }

    /// Seconds from location `from` to `to` on profile `k`.
    func seconds(_ from: Int, _ to: Int, profile k: Int) -> Double {
        if from == to { return 0 }
        let a = snapped(from, k), b = snapped(to, k)
        if a < 0 || b < 0 { return .infinity }
        if a == b { return 0 }
        let key = LegKey(profile: Int32(k), from: a, to: b)
        if let known = cache[key] { return known }
        queries += 1
        var cost = space(a, k, forward: true).meet(space(b, k, forward: false))
        // Both points on one edge, the target ahead: the edge itself, as the matrix takes it.
        let w = profiles[k].road.weights.edgeWeights, graph = profiles[k].road.network.graph
        for x in profiles[k].snaps[Int(a)] {
            for y in profiles[k].snaps[Int(b)] where y.edge == x.edge && y.fraction >= x.fraction {
                let road = Double(w[x.edge]) - Double(min(graph.turnPenaltyMs(x.edge), w[x.edge]))   // no turn made
                cost = min(cost, UInt64(((y.fraction - x.fraction) * road).rounded()))
            }
        }
        let value = cost == .max ? .infinity : Double(cost) / 1000 / speedFactor
        cache[key] = value
        return value
    }

    private func snapped(_ location: Int, _ k: Int) -> Int32 {
        let known = profiles[k].pointOf[location]
        if known != -2 { return known }
        let p = points[location]
        var id: Int32 = -1
        if let memo = profiles[k].memo[p] {
            id = memo
        } else {
            if LatLng.isValidDegrees(lat: p.latDegrees, lng: p.lngDegrees), let snap = profiles[k].road.network.snapIndex.snap(p),
               !snap.edges.isEmpty {
                id = Int32(profiles[k].snaps.count)
                profiles[k].snaps.append(snap.edges)
                profiles[k].forward.append(nil)
                profiles[k].backward.append(nil)
            }
            profiles[k].memo[p] = id
        }
        profiles[k].pointOf[location] = id
        return id
    }

    private func space(_ point: Int32, _ k: Int, forward: Bool) -> CHSearchSpace {
        let i = Int(point)
        if forward, let known = profiles[k].forward[i] { return known }
        if !forward, let known = profiles[k].backward[i] { return known }
        spacesSearched += 1
        let road = profiles[k].road, graph = road.network.graph, w = road.weights.edgeWeights
        // A source leaves by the head of its edge (the rest of the edge ahead, the turn onto it not made), a target is
        // reached from the tail (the turn onto the edge paid in full), as RouteQuery's matrices take them.
        let starts: [(Int, UInt64)] = profiles[k].snaps[i].map { e in
            let penalty = Double(min(graph.turnPenaltyMs(e.edge), w[e.edge])), rest = Double(w[e.edge]) - penalty
            return forward ? (Int(graph.forwardHeads[e.edge]), UInt64(((1 - e.fraction) * rest).rounded()))
                : (road.network.snapIndex.tail(of: e.edge), UInt64((penalty + e.fraction * rest).rounded()))
        }
        let found = profiles[k].matrix.searchSpace(from: starts, forward: forward)
        if forward { profiles[k].forward[i] = found } else { profiles[k].backward[i] = found }
        return found
    }
}

import Dispatcher
import EventLoop
import Foundation
import HexGeo
import Marketplace
import Routing
import Vocabulary

/// Pricing's route costs from the engine's road network: one CH route per quote, on the loop thread, with a
/// query workspace of its own (rebuilt when live weights are swapped in), so a quote allocates no search state.
///
/// `@unchecked Sendable`: `RouteCostProvider` must be Sendable because `Pricer` is, but this adapter is only
/// ever called on the loop thread (the engine quotes there); `routeCost` asserts it.
final class LoopRouteCosts: RouteCostProvider, @unchecked Sendable {
    private let roads: RoadState?
    /// Networks of the other profiles: an order for a bike or scooter is priced on its vehicle's roads.
    private let profileRoads: [RoutingProfile: RoadState]
    private let loop: Loop
    private var queries: [RoutingProfile: Workspace] = [:]

    /// A profile's query, used in place (never copied), and the weights it was made for.
    private final class Workspace {
        var query: RouteQuery
        let weights: RoutingWeights
        init(query: RouteQuery, weights: RoutingWeights) { self.query = query; self.weights = weights }
    }

    init(roads: RoadState?, profileRoads: [RoutingProfile: RoadState] = [:], loop: Loop) {
        self.roads = roads
        self.profileRoads = profileRoads
        self.loop = loop
    }

    func routeCost(from pickup: LatLng, to dropoff: LatLng, vehicle: String) -> RouteCost? {
        loop.assertOnLoop()
        var profile = VehicleType(name: vehicle)?.routingProfile ?? .car
        if profile != .car && profileRoads[profile] == nil { profile = .car }
        guard let routing = profile == .car ? roads : profileRoads[profile] else { return nil }
        let workspace: Workspace
        if let kept = queries[profile], kept.weights === routing.weights {
            workspace = kept
        } else {
            workspace = Workspace(query: routing.network.makeQuery(weights: routing.weights), weights: routing.weights)
            queries[profile] = workspace
        }
        guard let found = try? workspace.query.route(from: pickup, to: dropoff) else { return nil }
        guard found.distanceMeters.isFinite, found.durationSeconds.isFinite else { return nil }
        return RouteCost(distanceMeters: Int64(found.distanceMeters.rounded()),
                         durationSeconds: Int64(found.durationSeconds.rounded()))
    }
}

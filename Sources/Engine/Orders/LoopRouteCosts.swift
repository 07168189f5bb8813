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
    private let loop: Loop
    private var query: RouteQuery?
    private var queryWeights: RoutingWeights?

    init(roads: RoadState?, loop: Loop) {
        self.roads = roads
        self.loop = loop
    }

    func routeCost(from pickup: LatLng, to dropoff: LatLng, vehicle: String) -> RouteCost? {
        loop.assertOnLoop()
        guard let routing = roads else { return nil }
        if query == nil || queryWeights !== routing.weights {
            query = routing.network.makeQuery(weights: routing.weights)
            queryWeights = routing.weights
        }
        guard let found = try? query!.route(from: pickup, to: dropoff) else { return nil }
        guard found.distanceMeters.isFinite, found.durationSeconds.isFinite else { return nil }
        return RouteCost(distanceMeters: Int64(found.distanceMeters.rounded()),
                         durationSeconds: Int64(found.durationSeconds.rounded()))
    }
}

import HexGeo
import Vocabulary

/// What pricing needs from routing: a pick-up → drop-off cost for a vehicle type.
///
/// The Engine backs it with the Routing module's CH query; Marketplace does not import Routing.
/// Called on the thread that asks for a quote; it must be fast (a CH query is microseconds).
public protocol RouteCostProvider: Sendable {
    /// The cost, or nil when no route joins the points (→ `no_route`).
    func routeCost(from pickup: LatLng, to dropoff: LatLng, vehicle: String) -> RouteCost?
}

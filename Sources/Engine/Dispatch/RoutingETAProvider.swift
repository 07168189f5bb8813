import Dispatcher
import HexGeo
import Routing
import Vocabulary

/// Pickup ETAs from the road network: one bucket many-to-many matrix per round, on whatever thread runs the
/// round (a fresh query workspace per call). Points far from any road are unreachable (`.infinity`).
struct RoutingETAProvider: ETAProvider {
    let network: RoadNetwork
    let weights: RoutingWeights

    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        var query = network.makeQuery(weights: weights)
        func snaps(_ points: [LatLng]) -> [Snap?] {
            points.map { try? query.snap(LatLng(degrees: $0.latDegrees, $0.lngDegrees)) }
        }
        let s = snaps(sources), t = snaps(targets)
        let si = s.indices.filter { s[$0] != nil }, ti = t.indices.filter { t[$0] != nil }
        var out = [Double](repeating: .infinity, count: sources.count * targets.count)
        guard !si.isEmpty, !ti.isEmpty else { return out }
        let rows = query.matrix(snappedSources: si.map { s[$0]! }, snappedTargets: ti.map { t[$0]! })
        for (r, i) in si.enumerated() {
            for (c, j) in ti.enumerated() { out[i * targets.count + j] = rows[r][c] ?? .infinity }
        }
        return out
    }
}

import Dispatcher
import Foundation
import HexGeo
import Routing
import Vocabulary

/// Pickup ETAs for a dispatch round from the road graph: every point snapped to its nearest road, then one
/// contraction-hierarchy many-to-many matrix (bucket method). Free-flow times are divided by `speedFactor`, the
/// fleet's typical fraction of free-flow speed, so ETAs match what couriers actually drive.
///
/// `@unchecked Sendable`: the only mutable state, the route query's scratch, is touched only under `lock`.
final class RoadETAProvider: ETAProvider, @unchecked Sendable {
    private let lock = NSLock()
    private var query: RouteQuery
    private let speedFactor: Double

    /// A provider on `network`'s free-flow weights.
    init(network: RoadNetwork, speedFactor: Double = 1) {
        query = network.makeQuery()
        self.speedFactor = speedFactor > 0 ? speedFactor : 1
    }

    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        let snapIndex = query.network.snapIndex
        func snap(_ p: LatLng) -> Snap? {
            guard p.isValid else { return nil }
            return snapIndex.snap(LatLng(degrees: p.latDegrees, p.lngDegrees))
        }
        let s = sources.map(snap), t = targets.map(snap)
        let si = s.indices.filter { s[$0] != nil }, ti = t.indices.filter { t[$0] != nil }
        var out = [Double](repeating: .infinity, count: sources.count * targets.count)
        guard !si.isEmpty, !ti.isEmpty else { return out }
        let rows = query.matrix(snappedSources: si.map { s[$0]! }, snappedTargets: ti.map { t[$0]! })
        for (r, row) in rows.enumerated() {
            for (c, seconds) in row.enumerated() {
                if let seconds { out[si[r] * targets.count + ti[c]] = seconds / speedFactor }
            }
        }
        return out
    }
}

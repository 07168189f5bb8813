import Dispatcher
import Routing
import Synchronization
import Vocabulary

/// Pickup ETAs from the road network, for the engine's dispatch rounds and the offline simulator: every point
/// snapped to its nearest road, then one contraction-hierarchy many-to-many matrix (bucket method) per call.
///
/// Points that are not valid coordinates or lie farther than `SnapIndex.maxSnapMeters` from any road, and pairs
/// with no path, are unreachable (`.infinity`). Times come from `weights` (free flow unless the caller passes the
/// live ones) divided by `speedFactor`, the fleet's typical fraction of those speeds.
///
/// The query workspace (O(nodes) scratch) is made on the first call, on the thread that runs the round, and reused
/// by later calls: the engine makes a provider per round on the loop and calls it once on a worker, so the loop never
/// pays for the scratch; the simulator keeps one for a whole run and pays for it once.
public final class RoutingETAProvider: ETAProvider {
    /// The network routed on.
    public let network: RoadNetwork
    /// The weights (and hierarchy) ETAs come from.
    public let weights: RoutingWeights
    /// Free-flow time over driven time: ETAs are the weights' times divided by it (1 = as the weights say).
    public let speedFactor: Double
    // Made lazily on the first call's thread; the mutex serializes calls, since one workspace serves one at a time.
    private let query = Mutex<RouteQuery?>(nil)

    /// A provider on `network` under `weights` (free flow when nil), with times divided by `speedFactor`
    /// (a non-positive or non-finite factor counts as 1).
    public init(network: RoadNetwork, weights: RoutingWeights? = nil, speedFactor: Double = 1) {
        self.network = network
        self.weights = weights ?? network.freeFlow
        self.speedFactor = speedFactor > 0 && speedFactor.isFinite ? speedFactor : 1
    }

    /// Seconds from every source to every target, row-major (`s * targets.count + t`); `.infinity` where a point
    /// is off the road network or no path exists. Never throws.
    /// - Complexity: one snap per point, then one bucket many-to-many search.
    public func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        query.withLock { cached in
            // Taken out, not copied: a copy would duplicate the workspace's arrays on the first write.
            var q = cached.take() ?? network.makeQuery(weights: weights)
            let out = etaSeconds(&q, from: sources, to: targets)
            cached = q
            return out
        }
    }

    private func etaSeconds(_ q: inout RouteQuery, from sources: [LatLng], to targets: [LatLng]) -> [Double] {
        let s = sources.map { try? q.snap($0) }, t = targets.map { try? q.snap($0) }
        let si = s.indices.filter { s[$0] != nil }, ti = t.indices.filter { t[$0] != nil }
        var out = [Double](repeating: .infinity, count: sources.count * targets.count)
        guard !si.isEmpty, !ti.isEmpty else { return out }
        let rows = q.matrix(snappedSources: si.map { s[$0]! }, snappedTargets: ti.map { t[$0]! })
        for (r, i) in si.enumerated() {
            for (c, j) in ti.enumerated() {
                if let seconds = rows[r][c] { out[i * targets.count + j] = seconds / speedFactor }
            }
        }
        return out
    }
}

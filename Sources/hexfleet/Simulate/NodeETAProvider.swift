import Dispatcher
import Vocabulary

/// Pickup ETAs for the batch-optimal `DispatchRound` of the `single` policy, over the same node matrix as the
/// `stacked` policy, so both price travel alike: every coordinate the round passes is one the simulator made from a
/// road node, found again by its exact bits.
struct NodeETAProvider: ETAProvider {
    let nodeOf: [LatLngKey: Int]
    let secondsByPair: [UInt64: Double]

    struct LatLngKey: Hashable, Sendable {
        var lat: UInt64, lng: UInt64
        init(_ p: LatLng) { lat = p.lat.bitPattern; lng = p.lng.bitPattern }
    }

    func etaSeconds(from sources: [LatLng], to targets: [LatLng]) throws(ETAProviderError) -> [Double] {
        var out = [Double](repeating: .infinity, count: sources.count * targets.count)
        for (i, s) in sources.enumerated() {
            guard let a = nodeOf[LatLngKey(s)] else { continue }
            for (j, t) in targets.enumerated() {
                guard let b = nodeOf[LatLngKey(t)] else { continue }
                out[i * targets.count + j] = secondsByPair[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] ?? .infinity
            }
        }
        return out
    }
}

import Engine
import Foundation
import HexGeo
import Routing
import Vocabulary

/// Where and when orders appear: a Poisson process over H3 zones (resolution 8, about 0.7 km²), a few of them hot
/// spots with several times the base rate, as restaurant districts are. Pick-ups are random road nodes of the
/// zone; drop-offs random nodes 0.5–4 km away (straight line), both in the part of the graph every courier reaches.
struct DemandModel {
    /// One order as drawn.
    struct Draw: Sendable, Equatable {
        var atMs: Int64
        var pickupNode: Int
        var dropoffNode: Int
        var zone: H3Cell
    }

    /// Zones with at least one reachable node, sorted by cell so the draw order is fixed.
    let zones: [H3Cell]
    /// Relative rate of each zone (hot spots weigh `hotSpotWeight`, others 1).
    let weights: [Double]
    private let cumulative: [Double]
    private let nodesOfZone: [[Int32]]
    private let graph: RoadGraph
    private let reachable: [Int32]
    private var rng: SimRandom
    private var nextMs: Double
    private let meanGapMs: Double

    /// - Parameters:
    ///   - ordersPerMinute: the total arrival rate (0 draws nothing).
    ///   - hotSpots: zones with `hotSpotWeight` × the base rate (the busiest by road density, then random).
    init(graph: RoadGraph, reachableNodes: [Int32], ordersPerMinute: Double, startMs: Int64, seed: UInt64,
         hotSpots: Int = 3, hotSpotWeight: Double = 6, resolution: Int = 8) {
        self.graph = graph
        reachable = reachableNodes
        rng = SimRandom(seed: seed, stream: 2)
        var byZone: [H3Cell: [Int32]] = [:]
        for v in reachableNodes {
            guard let cell = try? H3.latLngToCell(graph.coordinate(Int(v)), resolution: resolution) else { continue }
            byZone[cell, default: []].append(v)
        }
        // Zones with a handful of nodes are fringes of the extract; keep real neighbourhoods.
        let minNodes = max(1, reachableNodes.count / max(1, byZone.count) / 10)
        let kept = byZone.filter { $0.value.count >= minNodes }.keys.sorted()
        zones = kept
        let zoneNodes = kept.map { byZone[$0]! }
        nodesOfZone = zoneNodes
        // Hot spots: among the denser half of zones, chosen by the seed.
        var w = [Double](repeating: 1, count: kept.count)
        let dense = kept.indices.sorted { (zoneNodes[$0].count, $0) > (zoneNodes[$1].count, $1) }.prefix(max(1, kept.count / 2))
        var candidates = Array(dense)
        for _ in 0..<min(hotSpots, candidates.count) {
            let k = rng.index(candidates.count)
            w[candidates[k]] = hotSpotWeight
            candidates.remove(at: k)
        }
        weights = w
        var acc = 0.0
        var sums: [Double] = []
        for x in w { acc += x; sums.append(acc) }
        cumulative = sums
        meanGapMs = ordersPerMinute > 0 ? 60_000 / ordersPerMinute : .infinity
        nextMs = Double(startMs)
        if meanGapMs.isFinite { nextMs += rng.exponential(mean: meanGapMs) }
    }

    /// The reachable road nodes of `zones[index]`.
    func nodes(ofZone index: Int) -> [Int32] { nodesOfZone[index] }

    /// A zone index drawn by weight (hot spots `hotSpotWeight` times as likely), from the caller's generator.
    func weightedZone(using rng: inout SimRandom) -> Int {
        let x = rng.unit() * cumulative[cumulative.count - 1]
        var lo = 0, hi = cumulative.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > x { hi = mid } else { lo = mid + 1 } }
        return lo
    }

    /// The next arrival if it happens at or before `untilMs`.
    mutating func next(untilMs: Int64) -> Draw? {
        guard !zones.isEmpty, meanGapMs.isFinite, nextMs <= Double(untilMs) else { return nil }
        let at = Int64(nextMs)
        nextMs += rng.exponential(mean: meanGapMs)
        let x = rng.unit() * cumulative[cumulative.count - 1]
        var lo = 0, hi = cumulative.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] > x { hi = mid } else { lo = mid + 1 } }
        let nodes = nodesOfZone[lo]
        let pickup = Int(nodes[rng.index(nodes.count)])
        let p = graph.coordinate(pickup)
        var dropoff = Int(reachable[rng.index(reachable.count)])
        for _ in 0..<30 {
            let d = Geodesy.distanceMeters(p, graph.coordinate(dropoff))
            if d >= 500 && d <= 4_000 { break }
            dropoff = Int(reachable[rng.index(reachable.count)])
        }
        return Draw(atMs: at, pickupNode: pickup, dropoffNode: dropoff, zone: zones[lo])
    }
}

import HexGeo
import Vocabulary

/// Routes on a `RoadNetwork` under one `RoutingWeights`: coordinate and node routes, matrices, one-to-many.
///
/// Owns its search scratch (reused across calls, stamp-reset); not `Sendable` by design: one per thread.
public struct RouteQuery {
    /// The network routed on.
    public let network: RoadNetwork
    /// The weights (and hierarchy) in use.
    public let weights: RoutingWeights
    private var ch: CHQuery
    private var matrixEngine: CHMatrix

    /// A query on `network` under `weights`.
    public init(network: RoadNetwork, weights: RoutingWeights) {
        self.network = network
        self.weights = weights
        ch = CHQuery(hierarchy: weights.hierarchy)
        matrixEngine = CHMatrix(hierarchy: weights.hierarchy)
    }

    /// Snaps `point` to the nearest road, throwing `badInput` for invalid degrees and `noRoad` when none is near.
    public func snap(_ point: LatLng) throws(RoutingError) -> Snap {
        guard LatLng.isValidDegrees(lat: point.latDegrees, lng: point.lngDegrees) else {
            throw RoutingError(.badInput, "coordinate \(point.latDegrees),\(point.lngDegrees) is not valid degrees")
        }
        guard let s = network.snapIndex.snap(point) else {
            throw RoutingError(.noRoad, "no road within \(Int(network.snapIndex.maxSnapMeters)) m of \(point.latDegrees),\(point.lngDegrees)")
        }
        return s
    }

    /// Fastest duration in milliseconds between graph nodes, nil when unreachable. Allocates nothing.
    public mutating func durationMs(fromNode source: Int, toNode target: Int) -> UInt64? {
        ch.durationMs(from: source, to: target)
    }

    /// The fastest route between two graph nodes, nil when unreachable; throws `badInput` for an unknown node.
    public mutating func route(fromNode source: Int, toNode target: Int) throws(RoutingError) -> Route? {
        let n = network.graph.nodeCount
        guard source >= 0, source < n, target >= 0, target < n else {
            throw RoutingError(.badInput, "node index outside 0..<\(n)")
        }
        guard let ms = ch.durationMs(from: source, to: target) else { return nil }
        let nodes = ch.path()
        return Route(durationSeconds: Double(ms) / 1000, distanceMeters: pathLength(nodes), nodes: nodes,
                     points: nodes.map { network.graph.coordinate($0) })
    }

    /// The fastest route between two coordinates, each snapped onto the nearest road segment; nil when unreachable.
    ///
    /// The route starts and ends at the snapped points, paying the partial cost of the edges they lie on; origin and
    /// destination on the same edge (in travel order) are joined directly when that is fastest.
    public mutating func route(from origin: LatLng, to destination: LatLng) throws(RoutingError) -> Route? {
        let a = try snap(origin), b = try snap(destination)
        let g = network.graph, w = weights.weightsMs
        let sources = a.edges.map { (Int(g.forwardHeads[$0.edge]), UInt64(((1 - $0.fraction) * Double(w[$0.edge])).rounded())) }
        let targets = b.edges.map { (network.snapIndex.tail(of: $0.edge), UInt64(($0.fraction * Double(w[$0.edge])).rounded())) }
        // Same edge, destination ahead of origin.
        var direct: (ms: UInt64, meters: Double)?
        for x in a.edges {
            for y in b.edges where y.edge == x.edge && y.fraction >= x.fraction {
                let ms = UInt64(((y.fraction - x.fraction) * Double(w[x.edge])).rounded())
                if direct == nil || ms < direct!.ms { direct = (ms, (y.fraction - x.fraction) * g.lengthsMeters[x.edge]) }
            }
        }
        let viaGraph = ch.run(sources: sources, targets: targets)
        if let direct, direct.ms <= viaGraph ?? .max {
            return Route(durationSeconds: Double(direct.ms) / 1000, distanceMeters: direct.meters, nodes: [], points: [a.point, b.point])
        }
        guard let total = viaGraph else { return nil }
        let nodes = ch.path()
        guard let first = nodes.first, let last = nodes.last else { return nil }
        // The snapped edges the path actually used: the cheapest entry into its first node and exit from its last.
        let start = a.edges.filter { Int(g.forwardHeads[$0.edge]) == first }
            .min { (1 - $0.fraction) * Double(w[$0.edge]) < (1 - $1.fraction) * Double(w[$1.edge]) }
        let end = b.edges.filter { network.snapIndex.tail(of: $0.edge) == last }
            .min { $0.fraction * Double(w[$0.edge]) < $1.fraction * Double(w[$1.edge]) }
        var meters = pathLength(nodes)
        if let start { meters += (1 - start.fraction) * g.lengthsMeters[start.edge] }
        if let end { meters += end.fraction * g.lengthsMeters[end.edge] }
        return Route(durationSeconds: Double(total) / 1000, distanceMeters: meters, nodes: nodes,
                     points: [a.point] + nodes.map { g.coordinate($0) } + [b.point])
    }

    /// Durations in seconds from every source to every target (nil where unreachable), by the bucket method.
    public mutating func matrix(sources: [LatLng], targets: [LatLng]) throws(RoutingError) -> [[Double?]] {
        var snappedSources: [Snap] = [], snappedTargets: [Snap] = []
        for p in sources { snappedSources.append(try snap(p)) }
        for p in targets { snappedTargets.append(try snap(p)) }
        return matrix(snappedSources: snappedSources, snappedTargets: snappedTargets)
    }

    /// Durations in seconds between already snapped points (nil where unreachable).
    public mutating func matrix(snappedSources: [Snap], snappedTargets: [Snap]) -> [[Double?]] {
        let g = network.graph, w = weights.weightsMs
        let s = snappedSources.map { snap in snap.edges.map { (Int(g.forwardHeads[$0.edge]), UInt64(((1 - $0.fraction) * Double(w[$0.edge])).rounded())) } }
        let t = snappedTargets.map { snap in snap.edges.map { (network.snapIndex.tail(of: $0.edge), UInt64(($0.fraction * Double(w[$0.edge])).rounded())) } }
        let rows = matrixEngine.durationsMs(sources: s, targets: t)
        var out: [[Double?]] = []
        out.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            var line: [Double?] = []
            line.reserveCapacity(row.count)
            for (j, ms) in row.enumerated() {
                var best = ms
                for x in snappedSources[i].edges {
                    for y in snappedTargets[j].edges where y.edge == x.edge && y.fraction >= x.fraction {
                        best = min(best, UInt64(((y.fraction - x.fraction) * Double(w[x.edge])).rounded()))
                    }
                }
                line.append(best == .max ? nil : Double(best) / 1000)
            }
            out.append(line)
        }
        return out
    }

    /// Durations in milliseconds between graph nodes (`UInt64.max` where unreachable), by the bucket method.
    public mutating func matrixMs(sourceNodes: [Int], targetNodes: [Int]) -> [[UInt64]] {
        matrixEngine.durationsMs(sources: sourceNodes.map { [($0, UInt64(0))] }, targets: targetNodes.map { [($0, UInt64(0))] })
    }

    /// Durations in seconds from one point to many (nil where unreachable): the bucket method with one source.
    public mutating func oneToMany(from source: LatLng, to targets: [LatLng]) throws(RoutingError) -> [Double?] {
        try matrix(sources: [source], targets: targets)[0]
    }

    /// Length in meters of a node path, edge by edge, choosing the cheapest parallel edge under the weights.
    func pathLength(_ nodes: [Int]) -> Double {
        guard nodes.count > 1 else { return 0 }
        let g = network.graph
        var meters = 0.0
        weights.weightsMs.withUnsafeBufferPointer { w in
            for i in 1..<nodes.count {
                if let e = g.cheapestEdge(from: nodes[i - 1], to: nodes[i], weights: w) { meters += g.lengthsMeters[e] }
            }
        }
        return meters
    }
}

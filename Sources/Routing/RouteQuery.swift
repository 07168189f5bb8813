import HexGeo
import Vocabulary

/// Routes on a `RoadNetwork` under one `RoutingWeights`: coordinate and node routes, matrices, one-to-many,
/// one-to-all.
///
/// `optimize` picks what the search minimises: `.time` searches the time weights' hierarchy; `.distance` searches
/// the network's distance hierarchy and reports durations under the time weights. Either way a route or matrix
/// cell carries both the duration and the length of the one route found.
///
/// Owns its search scratch (reused across calls, stamp-reset); not `Sendable` by design: one per thread.
public struct RouteQuery {
    /// The network routed on.
    public let network: RoadNetwork
    /// The time weights (free flow or live) that durations are reported under, and searched on for `.time`.
    public let weights: RoutingWeights
    /// What the search minimises.
    public let optimize: RoutingMetric
    /// The weights searched: `weights` for `.time`, the network's distance weights for `.distance`.
    public let searched: RoutingWeights
    private var ch: CHQuery
    private var matrixEngine: CHMatrix
    private var oneToAllScratch: OneToAllSearch?

    /// A query on `network` under the time `weights`, minimising `optimize`.
    public init(network: RoadNetwork, weights: RoutingWeights, optimize: RoutingMetric = .time) {
        self.network = network
        self.weights = weights
        self.optimize = optimize
        searched = optimize == .time ? weights : network.distanceWeights
        ch = CHQuery(hierarchy: searched.hierarchy)
        matrixEngine = CHMatrix(hierarchy: searched.hierarchy)
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

    /// The search cost between graph nodes (milliseconds for `.time`, millimetres for `.distance`), nil when
    /// unreachable. Allocates nothing.
    public mutating func durationMs(fromNode source: Int, toNode target: Int) -> UInt64? {
        ch.durationMs(from: source, to: target)
    }

    /// The fastest route between two graph nodes, nil when unreachable; throws `badInput` for an unknown node.
    public mutating func route(fromNode source: Int, toNode target: Int) throws(RoutingError) -> Route? {
        let n = network.graph.nodeCount
        guard source >= 0, source < n, target >= 0, target < n else {
            throw RoutingError(.badInput, "node index outside 0..<\(n)")
        }
        guard let cost = ch.durationMs(from: source, to: target) else { return nil }
        let nodes = ch.path()
        let (seconds, meters) = report(cost: cost, secondary: pathSecondary(nodes))
        return Route(durationSeconds: seconds, distanceMeters: meters, nodes: nodes,
                     points: nodes.map { network.graph.coordinate($0) })
    }

    /// The best route between two coordinates, each snapped onto the nearest road segment; nil when unreachable.
    ///
    /// The route starts and ends at the snapped points, paying the partial cost of the edges they lie on; origin and
    /// destination on the same edge (in travel order) are joined directly when that is cheapest.
    public mutating func route(from origin: LatLng, to destination: LatLng) throws(RoutingError) -> Route? {
        let (a, b, search) = try searchSnapped(origin, destination)
        let total: UInt64
        switch search {
        case nil: return nil
        case .direct(let seconds, let meters)?:
            return Route(durationSeconds: seconds, distanceMeters: meters, nodes: [], points: [a.point, b.point])
        case .viaGraph(let cost)?: total = cost
        }
        let nodes = ch.path()
        guard let first = nodes.first, let last = nodes.last else { return nil }
        let ends = endsSecondary(a, b, first: first, last: last)
        let second = ends.start + pathSecondary(nodes) + ends.end
        let (seconds, meters) = report(cost: total, secondary: second)
        return Route(durationSeconds: seconds, distanceMeters: meters, nodes: nodes,
                     points: [a.point] + nodes.map { network.graph.coordinate($0) } + [b.point])
    }

    /// The duration and distance of `route(from:to:)`'s route without its path: the second metric is summed over the
    /// packed hierarchy path (`ArcSums`, as matrices do) instead of unpacking it, which is most of a route's cost when
    /// only the figures are wanted (the batch CLI). Nil when unreachable.
    public mutating func routeFigures(from origin: LatLng, to destination: LatLng) throws(RoutingError) -> (durationSeconds: Double, distanceMeters: Double)? {
        let (a, b, search) = try searchSnapped(origin, destination)
        let total: UInt64
        switch search {
        case nil: return nil
        case .direct(let seconds, let meters)?: return (seconds, meters)
        case .viaGraph(let cost)?: total = cost
        }
        let g = network.graph
        let sums = optimize == .time ? weights.lengthsPerArc(graph: g) : weights.durationsPerArc(of: searched, graph: g)
        guard let packed = ch.packedPathSum(up: sums.up, down: sums.down) else { return nil }
        let ends = endsSecondary(a, b, first: packed.source, last: packed.target)
        let second = ends.start + packed.sum + ends.end
        let (seconds, meters) = report(cost: total, secondary: second)
        return (seconds, meters)
    }

    /// How a snapped search between two points came out: joined along the one edge both lie on, or through the graph
    /// at a cost (the hierarchy's search state then holds that path).
    private enum SnappedSearch {
        case direct(seconds: Double, meters: Double)
        case viaGraph(cost: UInt64)
    }

    /// Snaps both points and searches between them: the partial costs of the snapped edges as sources and targets,
    /// and the same-edge shortcut (destination ahead of origin) when it is no dearer. Nil search: unreachable.
    private mutating func searchSnapped(_ origin: LatLng, _ destination: LatLng) throws(RoutingError)
        -> (a: Snap, b: Snap, search: SnappedSearch?) {
        let a = try snap(origin), b = try snap(destination)
        let g = network.graph, s = searched
        let sources = a.edges.map { (Int(g.forwardHeads[$0.edge]), UInt64(s.startCost($0.edge, fraction: $0.fraction, graph: g).rounded())) }
        let targets = b.edges.map { (network.snapIndex.tail(of: $0.edge), UInt64(s.endCost($0.edge, fraction: $0.fraction, graph: g).rounded())) }
        var direct: (cost: UInt64, edge: Int, from: Double, to: Double)?
        for x in a.edges {
            for y in b.edges where y.edge == x.edge && y.fraction >= x.fraction {
                let cost = UInt64(s.alongCost(x.edge, from: x.fraction, to: y.fraction, graph: g).rounded())
                if direct == nil || cost < direct!.cost { direct = (cost, x.edge, x.fraction, y.fraction) }
            }
        }
        let viaGraph = ch.run(sources: sources, targets: targets)
        if let direct, direct.cost <= viaGraph ?? .max {
            let (seconds, meters) = report(cost: direct.cost, secondary: secondaryAlong(direct.edge, from: direct.from, to: direct.to))
            return (a, b, .direct(seconds: seconds, meters: meters))
        }
        return (a, b, viaGraph.map { .viaGraph(cost: $0) })
    }

    /// The second metric on the partial snapped edges at both ends of a path from node `first` to node `last`: the
    /// cheapest entry into `first` and exit from `last`, the edges the search's costs came from.
    private func endsSecondary(_ a: Snap, _ b: Snap, first: Int, last: Int) -> (start: Double, end: Double) {
        let g = network.graph, s = searched
        let start = a.edges.filter { Int(g.forwardHeads[$0.edge]) == first }
            .min { s.startCost($0.edge, fraction: $0.fraction, graph: g) < s.startCost($1.edge, fraction: $1.fraction, graph: g) }
        let end = b.edges.filter { network.snapIndex.tail(of: $0.edge) == last }
            .min { s.endCost($0.edge, fraction: $0.fraction, graph: g) < s.endCost($1.edge, fraction: $1.fraction, graph: g) }
        return (start.map { secondaryStart($0.edge, fraction: $0.fraction) } ?? 0,
                end.map { secondaryEnd($0.edge, fraction: $0.fraction) } ?? 0)
    }

    /// Durations in seconds from every source to every target (nil where unreachable), by the bucket method.
    public mutating func matrix(sources: [LatLng], targets: [LatLng]) throws(RoutingError) -> [[Double?]] {
        try table(sources: sources, targets: targets).durationsSeconds
    }

    /// Durations and distances from every source to every target, by the bucket method.
    public mutating func table(sources: [LatLng], targets: [LatLng]) throws(RoutingError) -> TravelMatrix {
        var snappedSources: [Snap] = [], snappedTargets: [Snap] = []
        for p in sources { snappedSources.append(try snap(p)) }
        for p in targets { snappedTargets.append(try snap(p)) }
        return table(snappedSources: snappedSources, snappedTargets: snappedTargets)
    }

    /// Durations in seconds between already snapped points (nil where unreachable).
    public mutating func matrix(snappedSources: [Snap], snappedTargets: [Snap]) -> [[Double?]] {
        table(snappedSources: snappedSources, snappedTargets: snappedTargets).durationsSeconds
    }

    /// Durations and distances between already snapped points: each cell's two figures belong to the one route the
    /// search chose (the fastest for `.time`, the shortest for `.distance`), as `route(from:to:)` reports them.
    public mutating func table(snappedSources: [Snap], snappedTargets: [Snap]) -> TravelMatrix {
        let g = network.graph, w = searched
        let s = snappedSources.map { snap in snap.edges.map {
            (Int(g.forwardHeads[$0.edge]), UInt64(w.startCost($0.edge, fraction: $0.fraction, graph: g).rounded()),
             secondaryStart($0.edge, fraction: $0.fraction))
        } }
        let t = snappedTargets.map { snap in snap.edges.map {
            (network.snapIndex.tail(of: $0.edge), UInt64(w.endCost($0.edge, fraction: $0.fraction, graph: g).rounded()),
             secondaryEnd($0.edge, fraction: $0.fraction))
        } }
        let sums = optimize == .time ? weights.lengthsPerArc(graph: g) : weights.durationsPerArc(of: searched, graph: g)
        let (rows, seconds) = matrixEngine.costs(sources: s, targets: t, arcSums: sums)
        var out = TravelMatrix(durationsSeconds: [], distancesMeters: [])
        out.durationsSeconds.reserveCapacity(rows.count)
        out.distancesMeters.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            var durations: [Double?] = [], distances: [Double?] = []
            durations.reserveCapacity(row.count)
            distances.reserveCapacity(row.count)
            for (j, cost) in row.enumerated() {
                var best = cost, second = seconds[i][j]
                // Same edge, destination ahead: taken on ties, as route(from:to:) does.
                for x in snappedSources[i].edges {
                    for y in snappedTargets[j].edges where y.edge == x.edge && y.fraction >= x.fraction {
                        let direct = UInt64(w.alongCost(x.edge, from: x.fraction, to: y.fraction, graph: g).rounded())
                        if direct <= best { best = direct; second = secondaryAlong(x.edge, from: x.fraction, to: y.fraction) }
                    }
                }
                if best == .max { durations.append(nil); distances.append(nil); continue }
                let (sec, meters) = report(cost: best, secondary: second)
                durations.append(sec)
                distances.append(meters)
            }
            out.durationsSeconds.append(durations)
            out.distancesMeters.append(distances)
        }
        return out
    }

    /// Search costs between graph nodes (`UInt64.max` where unreachable; milliseconds or millimetres), by the bucket
    /// method.
    public mutating func matrixMs(sourceNodes: [Int], targetNodes: [Int]) -> [[UInt64]] {
        matrixEngine.durationsMs(sources: sourceNodes.map { [($0, UInt64(0))] }, targets: targetNodes.map { [($0, UInt64(0))] })
    }

    /// Durations in seconds from one point to many (nil where unreachable): the bucket method with one source.
    public mutating func oneToMany(from source: LatLng, to targets: [LatLng]) throws(RoutingError) -> [Double?] {
        try matrix(sources: [source], targets: targets)[0]
    }

    /// The one-to-all scratch on the time weights, made on first use (it holds a cost per node); taken out while it
    /// runs so its arrays stay uniquely referenced and are written in place.
    mutating func takeOneToAll() -> OneToAllSearch {
        defer { oneToAllScratch = nil }
        return oneToAllScratch ?? OneToAllSearch(weights: weights)
    }

    mutating func keepOneToAll(_ search: OneToAllSearch) { oneToAllScratch = search }

    /// The second metric of one edge: its length in meters for `.time`, its duration in milliseconds for `.distance`.
    @inline(__always)
    func secondaryValue(_ edge: Int) -> Double {
        optimize == .time ? network.graph.lengthsMeters[edge] : Double(weights.edgeWeights[edge])
    }

    /// The second metric of the part of `edge` after `fraction` (a route starting there; no turn penalty).
    func secondaryStart(_ edge: Int, fraction: Double) -> Double {
        optimize == .time ? (1 - fraction) * network.graph.lengthsMeters[edge] : weights.startCost(edge, fraction: fraction, graph: network.graph)
    }

    /// The second metric of the part of `edge` before `fraction` (a route ending there; the turn penalty in full).
    func secondaryEnd(_ edge: Int, fraction: Double) -> Double {
        optimize == .time ? fraction * network.graph.lengthsMeters[edge] : weights.endCost(edge, fraction: fraction, graph: network.graph)
    }

    /// The second metric between two fractions of one edge.
    func secondaryAlong(_ edge: Int, from a: Double, to b: Double) -> Double {
        optimize == .time ? (b - a) * network.graph.lengthsMeters[edge] : weights.alongCost(edge, from: a, to: b, graph: network.graph)
    }

    /// (seconds, meters) from a search cost and the second metric of the same route.
    @inline(__always)
    func report(cost: UInt64, secondary: Double) -> (seconds: Double, meters: Double) {
        optimize == .time ? (Double(cost) / 1000, secondary) : (secondary / 1000, Double(cost) / 1000)
    }

    /// The second metric of a node path, edge by edge, choosing the cheapest parallel edge under the searched weights.
    func pathSecondary(_ nodes: [Int]) -> Double {
        guard nodes.count > 1 else { return 0 }
        let g = network.graph
        var total = 0.0
        searched.edgeWeights.withUnsafeBufferPointer { w in
            for i in 1..<nodes.count {
                if let e = g.cheapestEdge(from: nodes[i - 1], to: nodes[i], weights: w) { total += secondaryValue(e) }
            }
        }
        return total
    }
}

/// Durations and distances between sources (rows) and targets (columns); nil where unreachable.
public struct TravelMatrix: Sendable {
    /// Seconds per cell.
    public var durationsSeconds: [[Double?]]
    /// Meters per cell, of the same routes as the durations.
    public var distancesMeters: [[Double?]]
}

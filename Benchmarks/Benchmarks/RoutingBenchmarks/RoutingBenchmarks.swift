import Benchmark
import Foundation
import HexGeo
import Routing
import Vocabulary

// Routing benchmarks. Each figure has its baseline in the same run:
// `route/ch` vs `route/dijkstra`, `matrix/bucket-100` vs `matrix/repeated-100`, `contract/monaco` vs `import/monaco`,
// `route/ch-distance` vs `route/dijkstra-distance`, `isochrone/phast-600s` vs `isochrone/dijkstra-600s`,
// `match/1000-points` vs `match/snap-1000-points` (snapping each fix alone, the least any matcher does),
// `match/1000-points-sigma-given` (one pass, no pilot match measuring σ) and
// `match/1000-points-wide` (the matcher with its earlier parameters: 4σ radius, 12-nat beam, β = σ/2, no turn cost),
// `load/mmap` and `route/ch-coordinates` vs their `-turn-costs-off` twins (the same extract imported without turn
// costs, routed between the same places).
// Data: the largest shared extract (Andorra) when ../shared/data is present, else the Monaco fixture.

/// Real data loaded once, outside every measurement.
enum RoutingFixtures {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }   // Benchmarks/Benchmarks/RoutingBenchmarks/RoutingBenchmarks.swift
        return url
    }()
    static var sharedData: URL {
        if let env = ProcessInfo.processInfo.environment["HEXFLEET_SHARED_DATA"] { return URL(fileURLWithPath: env) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }
    static var monacoPath: String {
        let fixture = repoRoot.appendingPathComponent("fixtures/monaco.osm.pbf").path
        return FileManager.default.fileExists(atPath: fixture) ? fixture : sharedData.appendingPathComponent("osm/monaco.osm.pbf").path
    }
    static var largestPath: String {
        let andorra = sharedData.appendingPathComponent("osm/andorra.osm.pbf").path
        return FileManager.default.fileExists(atPath: andorra) ? andorra : monacoPath
    }
    static let network: RoadNetwork = try! RoadNetwork.importPBF(path: largestPath)
    static let monacoGraph: RoadGraph = try! OSMImporter.importGraph(path: monacoPath).0
    /// The same extract without turn costs (the car graph as it was before them).
    static let networkWithoutTurnCosts: RoadNetwork = try! RoadNetwork.importPBF(path: largestPath, profile: CarProfile(turnCosts: nil))
    static let savedPathWithoutTurnCosts: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-bench-plain-\(getpid()).hxg").path
        try! networkWithoutTurnCosts.save(to: path)
        return path
    }()
    static let savedPath: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-bench-\(getpid()).hxg").path
        try! network.save(to: path)
        return path
    }()

    static func pairs(_ count: Int, seed: UInt64) -> [(Int, Int)] {
        var rng = SplitMix(seed: seed)
        let n = network.graph.nodeCount
        return (0..<count).map { _ in (Int.random(in: 0..<n, using: &rng), Int.random(in: 0..<n, using: &rng)) }
    }

    /// 1,000 fixes every 30 m along consecutive fastest routes between random nodes, blurred by Gaussian noise of
    /// σ = 15 m on each axis (the accuracy setting).
    static let trace: [TracePoint] = {
        var rng = SplitMix(seed: 30)
        let g = network.graph
        var query = network.makeQuery()
        var corners: [LatLng] = []
        var from = Int.random(in: 0..<g.nodeCount, using: &rng)
        var length = 0.0
        while length < 31_000 {
            let to = Int.random(in: 0..<g.nodeCount, using: &rng)
            guard let route = try? query.route(fromNode: from, toNode: to), route.distanceMeters > 500 else { continue }
            corners += route.points
            length += route.distanceMeters
            from = to
        }
        var points: [TracePoint] = []
        var carried = 0.0
        func gaussian() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), v = Double.random(in: 0..<1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        for i in 1..<corners.count where points.count < 1_000 {
            let a = corners[i - 1], b = corners[i]
            let d = Geodesy.distanceMeters(a, b)
            var s = 30 - carried
            while s <= d && points.count < 1_000 {
                let f = s / d, r = Geodesy.earthRadiusMeters
                let lat = a.lat + f * (b.lat - a.lat), lng = a.lng + f * (b.lng - a.lng)
                points.append(TracePoint(position: LatLng(lat: lat + 15 * gaussian() / r, lng: lng + 15 * gaussian() / (r * cos(lat))),
                                         timestampMs: Int64(points.count) * 3_000))
                s += 30
            }
            carried = d - (s - 30)
        }
        return points
    }()

    static func snaps(_ count: Int, seed: UInt64) -> [Snap] {
        var rng = SplitMix(seed: seed)
        let g = network.graph
        return (0..<count).map { _ in network.snapIndex.snap(g.coordinate(Int.random(in: 0..<g.nodeCount, using: &rng)))! }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let benchmarks: @Sendable () -> Void = {
    let timed = Benchmark.Configuration(metrics: [.wallClock, .instructions, .mallocCountTotal], maxDuration: .seconds(5))
    let slow = Benchmark.Configuration(metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(20), maxIterations: 5)

    // One-to-one: CH against plain Dijkstra on the same pairs.
    Benchmark("route/ch", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 7)
        var query = RoutingFixtures.network.makeQuery()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(query.durationMs(fromNode: pairs[i % pairs.count].0, toNode: pairs[i % pairs.count].1)) }
    }
    Benchmark("route/dijkstra", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 7)
        var query = DijkstraQuery(graph: RoutingFixtures.network.graph)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(query.durationMs(from: pairs[i % pairs.count].0, to: pairs[i % pairs.count].1)) }
    }
    Benchmark("route/ch-coordinates", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 8)
        let g = RoutingFixtures.network.graph
        var query = RoutingFixtures.network.makeQuery()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let (s, t) = pairs[i % pairs.count]
            blackHole(try? query.route(from: g.coordinate(s), to: g.coordinate(t)))
        }
    }
    Benchmark("route/ch-coordinates-turn-costs-off", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 8)
        let g = RoutingFixtures.network.graph   // the same places as route/ch-coordinates
        var query = RoutingFixtures.networkWithoutTurnCosts.makeQuery()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let (s, t) = pairs[i % pairs.count]
            blackHole(try? query.route(from: g.coordinate(s), to: g.coordinate(t)))
        }
    }

    // Shortest distance: the distance hierarchy (built before measuring) against Dijkstra on the same millimetres.
    Benchmark("route/ch-distance", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 7)
        var query = RoutingFixtures.network.makeQuery(optimize: .distance)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(query.durationMs(fromNode: pairs[i % pairs.count].0, toNode: pairs[i % pairs.count].1)) }
    }
    Benchmark("route/dijkstra-distance", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 7)
        var query = DijkstraQuery(graph: RoutingFixtures.network.graph, weights: RoutingFixtures.network.distanceWeights.edgeWeights)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(query.durationMs(from: pairs[i % pairs.count].0, to: pairs[i % pairs.count].1)) }
    }
    Benchmark("route/ch-coordinates-distance", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(1_000, seed: 8)
        let g = RoutingFixtures.network.graph
        var query = RoutingFixtures.network.makeQuery(optimize: .distance)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let (s, t) = pairs[i % pairs.count]
            blackHole(try? query.route(from: g.coordinate(s), to: g.coordinate(t)))
        }
    }
    Benchmark("matrix/bucket-100-distance", configuration: timed) { benchmark in
        let s = RoutingFixtures.snaps(100, seed: 1), t = RoutingFixtures.snaps(100, seed: 2)
        var query = RoutingFixtures.network.makeQuery(optimize: .distance)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(query.table(snappedSources: s, snappedTargets: t)) }
    }

    // Isochrones of 10 minutes: PHAST plus cell grouping against a plain Dijkstra bounded at the same time.
    Benchmark("isochrone/phast-600s", configuration: timed) { benchmark in
        let centres = RoutingFixtures.snaps(100, seed: 11).map(\.point)
        var query = RoutingFixtures.network.makeQuery()
        _ = try? query.isochroneCells(from: centres[0], withinSeconds: 600, resolution: 9)   // cell grouping built once
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { blackHole(try? query.isochroneCells(from: centres[i % centres.count], withinSeconds: 600, resolution: 9)) }
    }
    Benchmark("isochrone/dijkstra-600s", configuration: timed) { benchmark in
        let snaps = RoutingFixtures.snaps(100, seed: 11)
        let g = RoutingFixtures.network.graph
        var query = DijkstraQuery(graph: g)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let snap = snaps[i % snaps.count]
            query.run(sources: snap.edges.map { (node: Int(g.forwardHeads[$0.edge]), costMs: UInt64((1 - $0.fraction) * Double(g.durationsMs[$0.edge]))) },
                      maxCost: 600_000)
        }
    }

    // Map matching of 1,000 noisy fixes against snapping each fix alone.
    Benchmark("match/1000-points", configuration: timed) { benchmark in
        let trace = RoutingFixtures.trace
        var matcher = MapMatcher(network: RoutingFixtures.network)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(matcher.match(trace)) }
    }
    // One pass at a given σ: what `match/1000-points` costs beyond it is the pilot match that measures σ.
    Benchmark("match/1000-points-sigma-given", configuration: timed) { benchmark in
        let trace = RoutingFixtures.trace
        var matcher = MapMatcher(network: RoutingFixtures.network)
        var options = MapMatcher.Options()
        options.sigmaMeters = 15
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(matcher.match(trace, options: options)) }
    }
    Benchmark("match/1000-points-wide", configuration: timed) { benchmark in
        let trace = RoutingFixtures.trace
        var matcher = MapMatcher(network: RoutingFixtures.network)
        var options = MapMatcher.Options()
        options.sigmaMeters = 15
        options.radiusMeters = 60
        options.beamNats = 12
        options.betaMeters = 7.5
        options.turnNats = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(matcher.match(trace, options: options)) }
    }
    Benchmark("match/snap-1000-points", configuration: timed) { benchmark in
        let trace = RoutingFixtures.trace
        let index = RoutingFixtures.network.snapIndex
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { for p in trace { blackHole(index.snap(p.position)) } }
    }

    // Many-to-many: buckets against repeated one-to-one.
    for size in [100, 1_000] {
        Benchmark("matrix/bucket-\(size)", configuration: size == 100 ? timed : slow) { benchmark in
            let s = RoutingFixtures.snaps(size, seed: 1), t = RoutingFixtures.snaps(size, seed: 2)
            var query = RoutingFixtures.network.makeQuery()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(query.matrix(snappedSources: s, snappedTargets: t)) }
        }
    }
    Benchmark("matrix/repeated-100", configuration: timed) { benchmark in
        let pairs = RoutingFixtures.pairs(100, seed: 3)
        var query = RoutingFixtures.network.makeQuery()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for (s, _) in pairs { for (_, t) in pairs { blackHole(query.durationMs(fromNode: s, toNode: t)) } }
        }
    }

    // Building and loading.
    Benchmark("contract/monaco", configuration: slow) { benchmark in
        let graph = RoutingFixtures.monacoGraph
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(Contractor.contract(graph)) }
    }
    Benchmark("import/monaco", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! OSMImporter.importGraph(path: RoutingFixtures.monacoPath)) }
    }
    Benchmark("load/mmap", configuration: timed) { benchmark in
        let path = RoutingFixtures.savedPath
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try? RoadNetwork.load(path: path)) }
    }
    Benchmark("load/mmap-turn-costs-off", configuration: timed) { benchmark in
        let path = RoutingFixtures.savedPathWithoutTurnCosts
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try? RoadNetwork.load(path: path)) }
    }

    // Scale: synthetic grids; contraction time, memory and query time as the graph grows.
    // The million-node grid takes minutes to contract; it runs only with HEXFLEET_BENCH_1M=1.
    let large = ProcessInfo.processInfo.environment["HEXFLEET_BENCH_1M"] == "1"
    for side in large ? [100, 316, 1_000] : [100, 316] {
        Benchmark("contract/grid-\(side * side)", configuration: slow) { benchmark in
            let graph = SyntheticGraphs.grid(columns: side, rows: side)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(Contractor.contract(graph)) }
        }
    }
}

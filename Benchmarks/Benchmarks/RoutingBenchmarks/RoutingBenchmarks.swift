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

    /// The matching benchmarks' trace (`SyntheticTrace.points`, shared with Benchmarks/scripts/match_cpu.swift).
    static let trace: [TracePoint] = SyntheticTrace.points(network, seed: 30)

    static func snaps(_ count: Int, seed: UInt64) -> [Snap] {
        var rng = SplitMix(seed: seed)
        let g = network.graph
        return (0..<count).map { _ in network.snapIndex.snap(g.coordinate(Int.random(in: 0..<g.nodeCount, using: &rng)))! }
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

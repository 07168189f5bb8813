import Benchmark
import Foundation
import HexGeo
import Routing

// Routing benchmarks. Each figure has its baseline in the same run:
// `route/ch` vs `route/dijkstra`, `matrix/bucket-100` vs `matrix/repeated-100`, `contract/monaco` vs `import/monaco`,
// `route/ch-distance` vs `route/dijkstra-distance`, `isochrone/phast-600s` vs `isochrone/dijkstra-600s`.
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

// swift-tools-version:6.1
// Hexfleet's benchmark harness: its own package so `swift test` at the root never builds it.
// Run from this folder: `swift package benchmark` (all) or `swift package benchmark --target HexGeoBenchmarks`.
// Every benchmark names its baseline in the same run (`<op>/<impl>`); scripts/bench-ratios divides the pairs.
import PackageDescription

func suite(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "benchmark")]
            + products.map { .product(name: $0, package: "Hexfleet") },
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}

let package = Package(
    name: "HexfleetBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Hexfleet", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        suite("HexGeoBenchmarks", ["HexGeo", "Vocabulary"]),
        suite("FleetIndexBenchmarks", ["FleetIndex", "HexGeo", "Vocabulary"]),
        suite("RoutingBenchmarks", ["Routing", "HexGeo", "Vocabulary"]),
        suite("DispatcherBenchmarks", ["Dispatcher", "Vocabulary"]),
        suite("IngestBenchmarks", ["Engine", "FleetIndex", "HexGeo", "Vocabulary"]),
        suite("HistoryBenchmarks", ["History", "Vocabulary"]),
        suite("DispatchRoundBenchmarks", ["Engine", "Dispatcher", "Routing", "Vocabulary"]),
    ]
)

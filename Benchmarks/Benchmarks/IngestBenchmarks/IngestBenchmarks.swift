import Benchmark

// Ingest benchmarks land here with their module's issue; each pairs an implementation with its baseline.
let benchmarks: @Sendable () -> Void = {
    Benchmark("harness/empty") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(0) }
    }
}

import Benchmark
import FleetIndex
import Foundation
import HexGeo
import Vocabulary

// FleetIndex benchmarks, each with its baseline in the same run:
// `nearest/h3index` vs `nearest/scan` (k = 10 among 1,000,000 live drivers), `upsert/h3index` (moving drivers),
// `memory/h3index-1M` (bytes per live driver: the table's own count and the process RSS delta).
// Fleet: 1,000,000 drivers over a 40 × 40 km metro area (Paris), 60 % around 12 dense centres, 40 % uniform.

/// The fleet, built once, outside every measurement.
enum FleetFixtures {
    static let driverCount = 1_000_000
    static let nowMs: Int64 = 1_767_225_600_000
    static let south = 48.68, north = 49.04, west = 2.08, east = 2.62

    static func positions(_ count: Int, seed: UInt64) -> [(Int32, Int32)] {
        var rng = BenchRandom(seed: seed)
        let centres = (0..<12).map { _ in (rng.uniform(south + 0.05, north - 0.05), rng.uniform(west + 0.05, east - 0.05)) }
        return (0..<count).map { i in
            let lat: Double, lng: Double
            if i % 5 < 3 {
                let c = centres[Int(rng.next() % 12)]
                lat = min(north, max(south, c.0 + rng.normal() * 0.02))
                lng = min(east, max(west, c.1 + rng.normal() * 0.03))
            } else {
                lat = rng.uniform(south, north)
                lng = rng.uniform(west, east)
            }
            return (Int32((lat * 1e7).rounded()), Int32((lng * 1e7).rounded()))
        }
    }

    static func makeTable(_ count: Int) -> DriverTable {
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000)
        table.reserveCapacity(count)
        for (i, p) in positions(count, seed: 1).enumerated() {
            _ = table.upsert(DriverState(id: DriverID(UInt64(i + 1)), latE7: p.0, lngE7: p.1, timestampMs: nowMs,
                                         status: i % 4 == 0 ? .onTrip : .available))
        }
        return table
    }

    nonisolated(unsafe) static let table: DriverTable = makeTable(driverCount)
    /// Timestamps of the upsert benchmark: each iteration's fixes are newer than the last (no replays).
    nonisolated(unsafe) static var upsertClockMs: Int64 = nowMs

    static let queries: [LatLng] = positions(4_096, seed: 2).map { LatLng(degrees: Double($0.0) * 1e-7, Double($0.1) * 1e-7) }
}

/// SplitMix64 with the draws the fixtures need.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Resident set size of this process, bytes (Linux /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let benchmarks: @Sendable () -> Void = {
    let latency = Benchmark.Configuration(metrics: [.wallClock, .throughput, .instructions, .mallocCountTotal],
                                          timeUnits: .nanoseconds, maxDuration: .seconds(5))
    let scan = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .microseconds,
                                       maxDuration: .seconds(5), maxIterations: 200)

    // One query per iteration, so wallClock percentiles are per-query latencies (p99 target < 50 µs).
    Benchmark("nearest/h3index", configuration: latency) { benchmark in
        let table = FleetFixtures.table, queries = FleetFixtures.queries
        var out: [NearbyDriver] = []
        out.reserveCapacity(16)
        var q = 0
        // Warm the scratch buffers outside the measurement.
        table.nearest(to: queries[0], k: 10, statuses: .init(.available), nowMs: FleetFixtures.nowMs, into: &out)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            table.nearest(to: queries[q & 4095], k: 10, statuses: .init(.available), nowMs: FleetFixtures.nowMs, into: &out)
            blackHole(out)
            q &+= 1
        }
    }
    Benchmark("nearest/scan", configuration: scan) { benchmark in
        let table = FleetFixtures.table, queries = FleetFixtures.queries
        var q = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(table.nearestByScan(to: queries[q & 4095], k: 10, statuses: .init(.available), nowMs: FleetFixtures.nowMs))
            q &+= 1
        }
    }

    // Upserts of drivers that moved up to ~100 m: the ingest's write into the index (1,000 per iteration).
    Benchmark("upsert/h3index", configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal],
                                                      timeUnits: .microseconds, maxDuration: .seconds(5))) { benchmark in
        let table = FleetFixtures.table
        let moves = FleetFixtures.positions(1_000, seed: 3)
        var rng = BenchRandom(seed: 4)
        let ids = (0..<1_000).map { _ in DriverID(1 + rng.next() % UInt64(FleetFixtures.driverCount)) }
        FleetFixtures.upsertClockMs += 1_000
        let ts = FleetFixtures.upsertClockMs
        benchmark.startMeasurement()
        for i in 0..<1_000 {
            blackHole(table.upsert(DriverState(id: ids[i], latE7: moves[i].0, lngE7: moves[i].1, timestampMs: ts, status: .available)))
        }
    }

    // Memory per live driver at 1M: the table's own accounting and the RSS delta of building it.
    Benchmark("memory/h3index-1M", configuration: .init(
        metrics: [.throughput, .custom("table_bytes_per_driver"), .custom("rss_bytes_per_driver")], maxDuration: .seconds(60), maxIterations: 1)) { benchmark in
        let before = residentBytes()
        let table = FleetFixtures.makeTable(FleetFixtures.driverCount)
        let after = residentBytes()
        benchmark.measurement(.custom("table_bytes_per_driver"), table.memoryBytes / table.count)
        benchmark.measurement(.custom("rss_bytes_per_driver"), max(0, after - before) / table.count)
        blackHole(table)
    }
}

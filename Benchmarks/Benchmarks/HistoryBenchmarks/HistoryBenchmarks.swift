import Benchmark
import Foundation
import History
import Vocabulary

// Position history benchmarks, each beside a baseline in the same run:
// - `history-append-500k/log` (one flush at 1M points/s: sort, checksum, one pwrite) vs
//   `history-append-500k/raw-write` (the same number of bytes written unsorted, no checksum: the disk's floor);
// - `history-query-1h/index` (one driver's hour from a log of 2,000 drivers pinging every second, flushed every
//   500 ms: 7.2M points, 7,200 blocks) vs `history-query-1h/scan` (every record of the hour decoded and filtered).
// The ingest-side cost (the engine with and without history) is end to end: Benchmarks/scripts/history-bench.sh.

enum HistoryFixtures {
    static let hourStart: Int64 = 490_000 * PositionLog.hourMs
    static let drivers = 2_000

    static func scratch(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-bench-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    /// One flush's worth of points: `count` pings from `drivers` drivers in arrival order.
    static func flush(_ index: Int, count: Int) -> [HistoryPoint] {
        (0..<count).map { i in
            let driver = UInt64((i * 7_919) % drivers + 1)
            return HistoryPoint(driver: DriverID(driver), timestampMs: hourStart + Int64(index) * 500 + Int64(i % 500),
                                latE7: 437_300_000 + Int32(i % 10_000), lngE7: 74_200_000 - Int32(i % 7_000),
                                speedCmPerSecond: UInt16(i % 3_000), status: .onTrip)
        }
    }

    /// The one-hour log: 2,000 drivers at 1 Hz, 7,200 flushes of 1,000 points.
    static let hourLog: PositionLog = {
        let log = try! PositionLog(directory: scratch("hour"))
        for f in 0..<7_200 { try! log.append(flush(f, count: 1_000)) }
        return log
    }()
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput], maxDuration: .seconds(3), maxIterations: 200)
    let flush = HistoryFixtures.flush(1, count: 500_000)
    let bytes = flush.count * 24 + 32

    Benchmark("history-append-500k/log", configuration: config) { b in
        let dir = HistoryFixtures.scratch("append")
        let log = try! PositionLog(directory: dir)
        for _ in b.scaledIterations {
            b.startMeasurement()
            blackHole(try! log.append(flush))
            b.stopMeasurement()
            log.removeSegments(endingBy: .max)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
    Benchmark("history-append-500k/raw-write", configuration: config) { b in
        let path = HistoryFixtures.scratch("raw")
        let buffer = [UInt8](repeating: 0x5A, count: bytes)
        for _ in b.scaledIterations {
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
            b.startMeasurement()
            blackHole(buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) })
            b.stopMeasurement()
            close(fd)
            unlink(path)
        }
    }

    let log = HistoryFixtures.hourLog
    let start = HistoryFixtures.hourStart, end = HistoryFixtures.hourStart + PositionLog.hourMs - 1
    Benchmark("history-query-1h/index", configuration: config) { b in
        for i in b.scaledIterations {
            let d = DriverID(UInt64(i % HistoryFixtures.drivers + 1))
            blackHole(log.points(of: d, fromMs: start, toMs: end, limit: .max))
        }
    }
    Benchmark("history-query-1h/scan", configuration: Benchmark.Configuration(metrics: [.wallClock], maxDuration: .seconds(3),
                                                                                 maxIterations: 20)) { b in
        let path = log.directory + "/positions-\(PositionLog.hour(of: start)).seg"
        let data = try! Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        for i in b.scaledIterations {
            let d = UInt64(i % HistoryFixtures.drivers + 1)
            var found = 0
            data.withUnsafeBytes { raw in
                var at = 0
                while at + 32 <= raw.count {
                    let count = Int(raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
                    var r = at + 32
                    for _ in 0..<count {
                        if raw.loadUnaligned(fromByteOffset: r, as: UInt64.self) == d { found += 1 }
                        r += 24
                    }
                    at = r
                }
            }
            blackHole(found)
        }
    }
}

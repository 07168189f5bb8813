import Benchmark
import Engine
import FleetIndex
import Foundation
import HexGeo
import Vocabulary

// Fence checks on the ingest path: the 1M-driver fleet of `ingest/single-1M-fleet`, fed 40-record gateway
// datagrams of random drivers, with 10,000 fixed fences of mixed shapes over the same 40 × 40 km city
// (`…/fences-10k`: decided on the fence thread, as the engine does; each iteration waits until the thread has decided
// all of its pings; `…/fences-10k-inline`: on the ingest thread) beside the same run without fences (`…/no-fences`,
// the baseline; the floor is 0.8 of it). Each reports `cpuNanosPerRecord`, the CPU time of all threads per record,
// so the fence thread's cost shows even where it overlaps the loop's.
// And `fences/containing-100k`: which of 100,000 fences hold a point, through the square index, beside the scan of
// every fence (`…/scan`).

enum FenceFixtures {
    /// Deterministic fences over the fixtures' city: 60 % circles (40–200 m), 30 % rectangles with a hole
    /// (100–400 m a side), 10 % H3 cell sets (a resolution-9 cell and its ring).
    static func bodies(_ n: Int, seed: UInt64) -> [String] {
        var rng = seed
        func next() -> Double {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(rng >> 11) / Double(1 << 53)
        }
        return (0..<n).map { i in
            let lat = 48.68 + next() * 0.36, lng = 2.08 + next() * 0.54
            switch i % 10 {
            case 0..<6:
                return #"{"id":"c\#(i)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(40 + next() * 160)}}"#
            case 6..<9:
                let h = (50 + next() * 150) / 111_195, w = (50 + next() * 150) / 73_000
                let outer = "[[\(lat - h),\(lng - w)],[\(lat - h),\(lng + w)],[\(lat + h),\(lng + w)],[\(lat + h),\(lng - w)]]"
                let hole = "[[\(lat - h / 3),\(lng - w / 3)],[\(lat - h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng - w / 3)]]"
                return #"{"id":"p\#(i)","shape":{"type":"polygon","rings":[\#(outer),\#(hole)]},"detect":["enter","exit","cross"]}"#
            default:
                var ring: [H3Cell] = []
                if let c = try? H3.latLngToCell(LatLng(degrees: lat, lng), resolution: 9) { try? H3.gridDisk(c, k: 1, into: &ring) }
                let list = ring.map { "\"\($0)\"" }.joined(separator: ",")
                return #"{"id":"h\#(i)","shape":{"type":"cells","cells":[\#(list)]}}"#
            }
        }
    }
}

/// The state of the fenced and unfenced 1M-driver gateway runs: a table and pipeline kept across iterations.
final class GatewayMillion: @unchecked Sendable {
    static let drivers = 1_000_000
    static let perDatagram = 40
    private let fences: Int
    private let threaded: Bool
    private var ingest: PingIngest?
    private(set) var monitor: FenceMonitor?
    private var pass = 1
    private var rng = UInt64(0x9876_5432)
    private var nowMs: Int64 = IngestFixtures.baseMs

    init(fences: Int, threaded: Bool = false) {
        self.fences = fences
        self.threaded = threaded
    }

    private func prepared() -> PingIngest {
        if let ingest { return ingest }
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 365 * 86_400_000)
        table.reserveCapacity(Self.drivers)
        let made = PingIngest(table: table, keys: IngestFixtures.keys)
        if fences > 0 {
            let m = FenceMonitor(threaded: threaded)
            for body in FenceFixtures.bodies(fences, seed: 19) {
                do { try m.add(json: body, nowMs: 0) } catch { fatalError("benchmark fence refused: \(error)") }
            }
            m.attach(to: made) { [unowned self] in self.nowMs }
            monitor = m
        }
        // Pass 0 through the pipeline, so the fences' first sightings are behind us.
        let first = IngestFixtures.records(drivers: Self.drivers, pass: 0)
        let key = IngestFixtures.keys.gatewayKey(1)
        for from in stride(from: 0, to: first.count, by: Self.perDatagram) {
            let d = PingWire.encode(Array(first[from..<min(first.count, from + Self.perDatagram)]), signerID: 1, gateway: true, key: key)
            d.withUnsafeBytes { made.ingestDatagram($0, nowMs: IngestFixtures.baseMs) }
        }
        monitor?.drain()
        ingest = made
        return made
    }

    func iterate(_ benchmark: Benchmark) {
        let ingest = prepared()
        pass += 1
        // 1,000 datagrams of 40 random drivers, each moved 16 m a pass from its pass-0 place, timestamps rising.
        var records: [PingRecord] = []
        records.reserveCapacity(IngestFixtures.datagramsPerIteration * Self.perDatagram)
        for _ in 0..<(IngestFixtures.datagramsPerIteration * Self.perDatagram) {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let i = Int(rng >> 33) % Self.drivers
            var r = IngestFixtures.record(index: i, pass: pass % 50, id: UInt64(i + 1))
            r.timestampMs = IngestFixtures.baseMs + Int64(pass) * 10
            records.append(r)
        }
        let key = IngestFixtures.keys.gatewayKey(1)
        let datagrams = stride(from: 0, to: records.count, by: Self.perDatagram).map {
            PingWire.encode(Array(records[$0..<$0 + Self.perDatagram]), signerID: 1, gateway: true, key: key)
        }
        nowMs = IngestFixtures.baseMs + Int64(pass) * 10
        IngestFixtures.measure(benchmark, ingest, datagrams, nowMs: nowMs, windows: true, records: records.count) {
            monitor?.drain()
        }
    }
}

/// 100,000 fences over the city and points to ask about.
final class ContainingFixture: @unchecked Sendable {
    lazy var monitor: FenceMonitor = {
        let m = FenceMonitor()
        for body in FenceFixtures.bodies(100_000, seed: 23) {
            do { try m.add(json: body, nowMs: 0) } catch { fatalError("benchmark fence refused: \(error)") }
        }
        return m
    }()
    lazy var points: [(Double, Double)] = (0..<1_000).map { i in
        let r = IngestFixtures.record(index: i * 977, pass: 0, id: 1)
        return (Double(r.latE7) / 1e7, Double(r.lngE7) / 1e7)
    }
}

func fenceBenchmarks(_ config: Benchmark.Configuration) {
    let fenced = GatewayMillion(fences: 10_000, threaded: true)
    let inline = GatewayMillion(fences: 10_000)
    let plain = GatewayMillion(fences: 0)
    var withCPU = config
    withCPU.metrics += [IngestFixtures.cpuNanosPerRecord, IngestFixtures.ingestThreadNanosPerRecord]
    Benchmark("ingest/gateway-40-1M-fleet/fences-10k", configuration: withCPU) { benchmark in fenced.iterate(benchmark) }
    Benchmark("ingest/gateway-40-1M-fleet/fences-10k-inline", configuration: withCPU) { benchmark in inline.iterate(benchmark) }
    Benchmark("ingest/gateway-40-1M-fleet/no-fences", configuration: withCPU) { benchmark in plain.iterate(benchmark) }

    let containing = ContainingFixture()
    Benchmark("fences/containing-100k", configuration: config) { benchmark in
        let m = containing.monitor, points = containing.points
        benchmark.startMeasurement()
        for (lat, lng) in points { blackHole(m.containingCount(latDegrees: lat, lngDegrees: lng, limit: 100, nowMs: 0)) }
        benchmark.stopMeasurement()
    }
    Benchmark("fences/containing-100k/scan", configuration: config) { benchmark in
        let m = containing.monitor, points = containing.points.prefix(10)
        benchmark.startMeasurement()
        for (lat, lng) in points { blackHole(m.containingCountByScan(latDegrees: lat, lngDegrees: lng, limit: 100, nowMs: 0)) }
        benchmark.stopMeasurement()
    }
}

import Benchmark
import Engine
import EventLoop
import FleetIndex
import Foundation

// Ingest benchmarks: `PingIngest` in process, from prebuilt signed datagrams into the H3 index, in receive windows
// of 32 as the engine's UDP receiver hands them over (`…/one-at-a-time`: `ingestDatagram` per datagram, the baseline
// of the window path in the same run).
// `ingest/gateway-40` (40-record gateway datagrams; target ≥ 3M records/s/core) beside `ingest/single`
// (driver-signed one-record datagrams) and `ingest/upsert-only` (the same records straight into the table: the
// cost of the index alone, the floor under both). Each iteration ingests 1,000 datagrams; `throughput` × records
// per datagram × 1,000 is records per second. The loopback figures (UDP vs a bare recvmmsg drain, Redis GEO) come
// from Benchmarks/scripts, in the same report.

enum IngestFixtures {
    static let secret = [UInt8](repeating: 0x42, count: 32)
    static let keys = PingKeys(secret: secret)
    static let baseMs: Int64 = 1_767_225_600_000
    static let datagramsPerIteration = 1_000

    /// Records for `drivers` drivers spread over a 40 × 40 km city at pass `pass`: timestamps grow by 2 s per pass
    /// and each driver moves 16 m per pass in its own direction (8 m/s, a courier in town), so some cross into a
    /// neighbouring cell as real fleets do.
    static func records(drivers: Int, pass: Int, firstID: UInt64 = 1) -> [PingRecord] {
        (0..<drivers).map { record(index: $0, pass: pass, id: firstID + UInt64($0)) }
    }

    /// The record of the fleet's driver number `index` at pass `pass`.
    static func record(index i: Int, pass: Int, id: UInt64) -> PingRecord {
        var z = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        z ^= z >> 29
        let direction = Double((z >> 44) % 360) * Double.pi / 180
        let stepDegrees = 16.0 / 111_195.0 * Double(pass)
        let lat = 48.68 + Double(z % 36_000) * 1e-5 + stepDegrees * sin(direction)
        let lng = 2.08 + Double((z >> 20) % 54_000) * 1e-5 + stepDegrees * cos(direction) / cos(48.9 * Double.pi / 180)
        return PingRecord(driverID: id, timestampMs: baseMs + Int64(pass) * 2_000,
                          latE7: Int32((lat * 1e7).rounded()), lngE7: Int32((lng * 1e7).rounded()),
                          speedCmPerSecond: 800, headingCentidegrees: 9_000, accuracyDecimetres: 50, status: 1)
    }

    /// Gateway datagrams of `perDatagram` records each.
    static func gatewayDatagrams(drivers: Int, perDatagram: Int, pass: Int) -> [[UInt8]] {
        let rs = records(drivers: drivers, pass: pass)
        let key = keys.gatewayKey(1)
        return stride(from: 0, to: rs.count, by: perDatagram).map {
            PingWire.encode(Array(rs[$0..<min(rs.count, $0 + perDatagram)]), signerID: 1, gateway: true, key: key)
        }
    }

    /// Driver-signed one-record datagrams.
    static func singleDatagrams(drivers: Int, pass: Int) -> [[UInt8]] {
        records(drivers: drivers, pass: pass).map {
            PingWire.encode([$0], signerID: $0.driverID, gateway: false, key: keys.driverKey($0.driverID))
        }
    }

    /// A sparse fleet that leaves its cells and comes back: pass 0 at home, pass 1 every driver 400 m north (other
    /// cells, most of them empty, so new buckets), pass 2 home again (cells emptied by pass 1, entered again).
    static let roaming: [[[UInt8]]] = (0..<3).map { pass in
        records(drivers: datagramsPerIteration, pass: 0).map { r in
            var r = r
            r.timestampMs += Int64(pass) * 2_000
            if pass == 1 { r.latE7 += 36_000 }   // 0.0036° ≈ 400 m
            return PingWire.encode([r], signerID: r.driverID, gateway: false, key: keys.driverKey(r.driverID))
        }
    }
    /// Times `ingest` taking `datagrams`, laid out back to back as in a receive slab: in receive windows of
    /// `UDPReceiver.warmWindow` as the engine takes them, or (`windows` false) one at a time. `finish` runs inside
    /// the measurement, after the last datagram (waiting for work handed to another thread). With `records` > 0, the
    /// process's CPU time (every thread's) per record is reported as `cpuNanosPerRecord`.
    static func measure(_ benchmark: Benchmark, _ ingest: PingIngest, _ datagrams: [[UInt8]], nowMs: Int64, windows: Bool,
                        records: Int = 0, finish: () -> Void = {}) {
        let slab = UnsafeMutableRawBufferPointer.allocate(byteCount: datagrams.reduce(0) { $0 + $1.count }, alignment: 16)
        let sender = UnsafeMutablePointer<sockaddr>.allocate(capacity: 1)
        sender.initialize(to: sockaddr())
        defer { slab.deallocate(); sender.deallocate() }
        var list: [UDPDatagram] = []
        var offset = 0
        for d in datagrams {
            let bytes = UnsafeMutableRawBufferPointer(rebasing: slab[offset..<offset + d.count])
            bytes.copyBytes(from: d)
            list.append(UDPDatagram(bytes: UnsafeRawBufferPointer(bytes), sender: UnsafePointer(sender), isTruncated: false))
            offset += d.count
        }
        list.withUnsafeBufferPointer { all in
            let cpuBefore = cpuNanos(CLOCK_PROCESS_CPUTIME_ID), threadBefore = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
            benchmark.startMeasurement()
            if windows {
                var from = 0
                while from < all.count {
                    let to = min(all.count, from + UDPReceiver.warmWindow)
                    ingest.ingestWindow(UDPBatch(datagrams: UnsafeBufferPointer(rebasing: all[from..<to])), nowMs: nowMs)
                    from = to
                }
            } else {
                for d in all { ingest.ingestDatagram(d.bytes, nowMs: nowMs) }
            }
            finish()
            benchmark.stopMeasurement()
            if records > 0 {
                benchmark.measurement(cpuNanosPerRecord, Int((cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuBefore) / UInt64(records)))
                benchmark.measurement(ingestThreadNanosPerRecord, Int((cpuNanos(CLOCK_THREAD_CPUTIME_ID) - threadBefore) / UInt64(records)))
            }
        }
    }

    /// CPU time of the whole process (all threads) per record, in nanoseconds.
    static let cpuNanosPerRecord = BenchmarkMetric.custom("cpuNanosPerRecord", polarity: .prefersSmaller, useScalingFactor: false)
    /// CPU time of the ingesting thread alone per record, in nanoseconds (the rest of `cpuNanosPerRecord` is other
    /// threads': the fence thread's).
    static let ingestThreadNanosPerRecord = BenchmarkMetric.custom("ingestThreadNanosPerRecord", polarity: .prefersSmaller,
                                                                   useScalingFactor: false)

    /// CPU time used so far by `clock` (the process's, or the calling thread's), in nanoseconds.
    static func cpuNanos(_ clock: clockid_t) -> UInt64 {
        var t = timespec()
        clock_gettime(clock, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    static let gateway40 = (0..<2).map { gatewayDatagrams(drivers: 40 * datagramsPerIteration, perDatagram: 40, pass: $0) }
    static let single = (0..<2).map { singleDatagrams(drivers: datagramsPerIteration, pass: $0) }
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .instructions, .mallocCountTotal],
                                         timeUnits: .microseconds, maxDuration: .seconds(5))

    // A fresh table per iteration (built outside the measurement) that already holds every driver from pass 0:
    // the measured pass moves known drivers, as steady-state ingest does. `windows` false feeds the measured pass one
    // datagram at a time instead of in receive windows.
    func run(_ benchmark: Benchmark, _ passes: [[[UInt8]]], expected: Int, keyCacheSize: Int = 1 << 16,
             windows: Bool = true) {
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000)
        table.reserveCapacity(expected)
        let ingest = PingIngest(table: table, keys: IngestFixtures.keys, keyCacheSize: keyCacheSize)
        let nowMs = IngestFixtures.baseMs + 2_000 * Int64(passes.count - 1)
        for pass in passes.dropLast() { for d in pass { d.withUnsafeBytes { ingest.ingestDatagram($0, nowMs: nowMs) } } }
        IngestFixtures.measure(benchmark, ingest, passes[passes.count - 1], nowMs: nowMs, windows: windows)
        let accepted = Int(ingest.counters.accepted[PingTransport.udp.rawValue])
        if accepted != passes.count * expected {
            fatalError("benchmark setup is wrong: \(accepted) of \(passes.count * expected) records accepted")
        }
        blackHole(table)
    }

    Benchmark("ingest/gateway-40", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.gateway40, expected: 40 * IngestFixtures.datagramsPerIteration)
    }
    Benchmark("ingest/single", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.single, expected: IngestFixtures.datagramsPerIteration)
    }
    // Drivers coming back to cells they left a pass ago (see `IngestFixtures.roaming`): a town's couriers criss-cross.
    Benchmark("ingest/single-roaming", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.roaming, expected: IngestFixtures.datagramsPerIteration)
    }
    // Every datagram from a signer whose key is not cached (a one-slot cache): the first-contact cost of a driver,
    // key derivation and preparation included.
    Benchmark("ingest/single-uncached", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.single, expected: IngestFixtures.datagramsPerIteration, keyCacheSize: 1)
    }
    // The same two without receive windows: what the paired key derivations and tag checks save.
    Benchmark("ingest/single/one-at-a-time", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.single, expected: IngestFixtures.datagramsPerIteration, windows: false)
    }
    Benchmark("ingest/single-uncached/one-at-a-time", configuration: config) { benchmark in
        run(benchmark, IngestFixtures.single, expected: IngestFixtures.datagramsPerIteration, keyCacheSize: 1,
            windows: false)
    }
    // The tag check alone (a prepared key, one-record datagrams): the part of `ingest/single` no table change removes.
    Benchmark("ingest/tag-check", configuration: config) { benchmark in
        let datagrams = IngestFixtures.single[1]
        let key = IngestFixtures.keys.preparedDriver(1)
        benchmark.startMeasurement()
        for d in datagrams { blackHole(d.withUnsafeBytes { PingTag.verify($0, prepared: key) }) }
        benchmark.stopMeasurement()
    }
    // A metro fleet of a million drivers (the figure the loopback benchmark floods): each iteration takes 1,000
    // one-record datagrams of drivers picked at random, in receive windows, with the default key cache (65,536
    // signers), so most keys are derived and most table rows, buckets and cache slots are cold, as under a flood.
    // One table for the whole run; the fleet is made before the first iteration.
    fenceBenchmarks(config)

    let million = MillionFleet()
    Benchmark("ingest/single-1M-fleet", configuration: config) { benchmark in
        million.iterate(benchmark, windows: true)
    }
    Benchmark("ingest/single-1M-fleet/one-at-a-time", configuration: config) { benchmark in
        million.iterate(benchmark, windows: false)
    }
    Benchmark("ingest/upsert-only", configuration: config) { benchmark in
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000)
        let n = 40 * IngestFixtures.datagramsPerIteration
        table.reserveCapacity(n)
        let first = IngestFixtures.records(drivers: n, pass: 0).map(\.driverState)
        let second = IngestFixtures.records(drivers: n, pass: 1).map(\.driverState)
        for s in first { _ = table.upsert(s) }
        benchmark.startMeasurement()
        for s in second { blackHole(table.upsert(s)) }
        benchmark.stopMeasurement()
    }
}

/// The state of `ingest/single-1M-fleet`: a table and pipeline that keep their million drivers across iterations.
final class MillionFleet: @unchecked Sendable {
    static let drivers = 1_000_000
    private var ingest: PingIngest?
    private var pass = 1
    private var rng = UInt64(0x1234_5678)

    private func prepared() -> PingIngest {
        if let ingest { return ingest }
        let table = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 365 * 86_400_000)
        table.reserveCapacity(Self.drivers)
        for r in IngestFixtures.records(drivers: Self.drivers, pass: 0) { _ = table.upsert(r.driverState) }
        let made = PingIngest(table: table, keys: IngestFixtures.keys)
        ingest = made
        return made
    }

    func iterate(_ benchmark: Benchmark, windows: Bool) {
        let ingest = prepared()
        pass += 1
        // 1,000 random drivers, each moved 16 m per pass from its pass-0 place, timestamps rising with the pass.
        var picked: [PingRecord] = []
        for _ in 0..<IngestFixtures.datagramsPerIteration {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let i = Int(rng >> 33) % Self.drivers
            var r = IngestFixtures.record(index: i, pass: pass % 50, id: UInt64(i + 1))
            r.timestampMs = IngestFixtures.baseMs + Int64(pass) * 10
            picked.append(r)
        }
        let datagrams = picked.map { r in
            PingWire.encode([r], signerID: r.driverID, gateway: false, key: IngestFixtures.keys.driverKey(r.driverID))
        }
        let nowMs = IngestFixtures.baseMs + Int64(pass) * 10
        let before = ingest.counters.accepted[PingTransport.udp.rawValue] + ingest.counters.dropped[DropReason.replay.rawValue]
        IngestFixtures.measure(benchmark, ingest, datagrams, nowMs: nowMs, windows: windows)
        // Every datagram passes its tag (a driver picked twice in one iteration is a replay the second time).
        let after = ingest.counters.accepted[PingTransport.udp.rawValue] + ingest.counters.dropped[DropReason.replay.rawValue]
        if after - before != UInt64(datagrams.count) {
            fatalError("benchmark setup is wrong: \(after - before) of \(datagrams.count) passed")
        }
    }
}

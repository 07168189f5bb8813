@testable import Engine
import FleetIndex
import Foundation
import HTTPServer
import HexGeo
import JSON
import Synchronization
import Testing
import Vocabulary

/// Fences of every kind the detector treats differently, over central Helsinki: plain circles, polygons with a hole
/// and cell sets detecting cross and inside, dwell fences, status-filtered ones, a driver-filtered `outside`, and
/// fences that expire during the walk.
private func mixedFences(_ n: Int, seed: UInt64, prefix: String) throws -> [String] {
    var rng = SplitMix64(seed: seed)
    func uniform(_ r: ClosedRange<Double>) -> Double { Double.random(in: r, using: &rng) }
    var bodies: [String] = []
    for i in 0..<n {
        let lat = uniform(60.15...60.20), lng = uniform(24.90...25.00)
        var extra = ""
        switch i % 7 {
        case 1: extra = #","dwell_s":3"#
        case 2: extra = #","statuses":["available"]"#
        case 3: extra = #","expires_at_ms":\#(Int(uniform(40_000...140_000)))"#
        default: break
        }
        let id = "\(prefix)\(i)"
        switch i % 4 {
        case 0:
            bodies.append(#"{"id":"\#(id)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(uniform(20...900))},"detect":["enter","exit","cross","inside"]\#(extra)}"#)
        case 1:
            let h = uniform(0.0003...0.006), w = uniform(0.0005...0.012)
            let outer = "[[\(lat - h),\(lng - w)],[\(lat - h),\(lng + w)],[\(lat + h * 1.2),\(lng + w * 0.8)],[\(lat + h),\(lng - w)]]"
            let hole = "[[\(lat - h / 3),\(lng - w / 3)],[\(lat - h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng - w / 3)]]"
            bodies.append(#"{"id":"\#(id)","shape":{"type":"polygon","rings":[\#(outer),\#(hole)]},"detect":["enter","exit","cross"]\#(extra)}"#)
        case 2:
            let cell = try H3.latLngToCell(LatLng(degrees: lat, lng), resolution: [8, 9, 10][i % 3])
            var ring: [H3Cell] = []
            try H3.gridDisk(cell, k: 1, into: &ring)
            bodies.append(#"{"id":"\#(id)","shape":{"type":"cells","cells":[\#(ring.map { "\"\($0)\"" }.joined(separator: ","))]},"detect":["enter","exit","cross","inside"]\#(extra)}"#)
        default:
            bodies.append(#"{"id":"\#(id)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(uniform(100...1_500))},"detect":["enter","exit","outside"],"drivers":[3,5]\#(extra)}"#)
        }
    }
    return bodies
}

/// An index and detector with fences added and removed by JSON body or id.
private final class Fences {
    let index = FenceIndex()
    let detector: FenceDetector
    init() { detector = FenceDetector(index: index) }

    func add(_ body: String) throws {
        let d = try FenceDefinition.parse(try JSONReader.parse(body), nowMs: 0, checkExpiry: false) { "generated" }
        guard case .fixed(let shape) = d.area else { return }
        try index.add(d, shape: shape)
    }

    /// Two sets of the same fences: one for the inline detector, one for the fence thread.
    static func twins(_ bodies: [String]) throws -> (inline: Fences, threaded: Fences) {
        let inline = Fences(), threaded = Fences()
        for b in bodies {
            try inline.add(b)
            try threaded.add(b)
        }
        return (inline, threaded)
    }
}

/// Random walks of `drivers` drivers: batches of accepted pings as ingest hands them over (each with the driver's
/// previous fix; a driver's first ping, or one after it was "evicted", with none), of random sizes.
private struct Walks {
    var rng: SplitMix64
    var at: [LatLng]
    var last: [PreviousFix]
    var ts: Int64 = 1_000

    init(drivers: Int, seed: UInt64) {
        rng = SplitMix64(seed: seed)
        at = (0..<drivers).map { _ in LatLng(degrees: 60.175, 24.95) }
        last = [PreviousFix](repeating: .none, count: drivers)
    }

    mutating func batch(_ n: Int) -> ([DriverState], [PreviousFix]) {
        var states: [DriverState] = [], previous: [PreviousFix] = []
        for _ in 0..<n {
            let d = Int.random(in: 0..<at.count, using: &rng)
            let reach = [0.00004, 0.0008, 0.004, 0.03][Int.random(in: 0..<4, using: &rng)]
            let lat = min(60.21, max(60.14, at[d].latDegrees + Double.random(in: -reach...reach, using: &rng)))
            let lng = min(25.02, max(24.88, at[d].lngDegrees + Double.random(in: -reach...reach, using: &rng) * 2))
            let latE7 = Int32((lat * 1e7).rounded()), lngE7 = Int32((lng * 1e7).rounded())
            ts += Int64.random(in: 0...400, using: &rng)
            let status: DriverStatus = Int.random(in: 0..<5, using: &rng) == 0 ? .onTrip : .available
            states.append(DriverState(id: DriverID(UInt64(d + 1)), latE7: latE7, lngE7: lngE7, timestampMs: ts, status: status))
            // Now and then the table has forgotten the driver: a first sighting.
            previous.append(Int.random(in: 0..<60, using: &rng) == 0 ? .none : last[d])
            last[d] = PreviousFix(latE7: latE7, lngE7: lngE7)
            at[d] = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
        }
        return (states, previous)
    }
}

private func names(_ events: [FenceEvent]) -> [String] {
    events.map { "\($0.driver.rawValue) \($0.fence) \($0.kind.name) \($0.timestampMs)" }
}

@Suite struct FenceWorkerTests {
    @Test("the fence thread fires exactly the inline detector's events, in the same order, on random walks with fences added and deleted between batches; containing answers the same meanwhile")
    func sameEventsAsInline() throws {
        let bodies = try mixedFences(160, seed: 71, prefix: "f")
        let extra = try mixedFences(40, seed: 72, prefix: "x")
        let (inline, threaded) = try Fences.twins(bodies)
        let worker = FenceWorker(detector: threaded.detector, capacity: 1_024)
        worker.start(name: "fence-worker-test")
        var walks = Walks(drivers: 40, seed: 9)
        var rng = SplitMix64(seed: 10)
        var expected: [FenceEvent] = [], got: [FenceEvent] = []
        var found: [FenceIndex.Containing] = []
        var changes = 0
        for round in 0..<400 {
            let (states, previous) = walks.batch(Int.random(in: 1...300, using: &rng))
            let nowMs = walks.ts
            states.withUnsafeBufferPointer { s in
                previous.withUnsafeBufferPointer { p in
                    inline.detector.process(s, previous: p, nowMs: nowMs)
                    worker.submit(s, p, nowMs: nowMs)
                }
            }
            expected += inline.detector.events
            inline.detector.events.removeAll()
            // The loop asks `containing` while the thread decides (reads of the same index from both).
            let q = LatLng(degrees: Double.random(in: 60.15...60.20, using: &rng), Double.random(in: 24.90...25.00, using: &rng))
            threaded.index.containing(q, limit: 50, nowMs: nowMs, into: &found)
            #expect(found.map(\.slot) == inline.index.containing(q, limit: 50, nowMs: nowMs).map(\.slot))
            // Fences change between batches: both sides at the same point of the ping stream.
            if round % 9 == 4 {
                let body = extra[(round / 9) % extra.count]
                worker.quiesce()
                try inline.add(body)
                try threaded.add(body)
                changes += 1
            } else if round % 9 == 8 {
                let id = (round / 9) % 2 == 0 ? "f\((round * 7) % bodies.count)" : "x\((round / 9 - 1) % extra.count)"
                worker.quiesce()
                inline.index.remove(id)
                threaded.index.remove(id)
                changes += 1
            }
            if round % 50 == 49 {
                inline.detector.forgetStale(olderThanMs: nowMs - 5_000, max: FenceWorker.staleSlice)
                worker.forgetStale(olderThanMs: nowMs - 5_000)
            }
            if round % 25 == 0 { worker.takeEvents(into: &got) }
        }
        worker.stop()
        worker.takeEvents(into: &got)
        #expect(changes > 60)
        #expect(expected.count > 2_000, "the walks fire plenty (\(expected.count))")
        #expect(Set(expected.map(\.kind)) == Set(FenceEventKind.allCases), "every kind fires")
        #expect(names(got) == names(expected))
        #expect(got == expected)
    }

    @Test("a full ring makes the loop wait for room: nothing is lost, the waits are counted, the events are the inline ones")
    func fullRingWaits() throws {
        let bodies = try mixedFences(80, seed: 73, prefix: "f")
        let (inline, threaded) = try Fences.twins(bodies)
        let worker = FenceWorker(detector: threaded.detector, capacity: 64)
        // The thread decides nothing until the loop is stuck on a full ring, so the wait is certain, not a race.
        let held = Atomic<Bool>(true)
        worker.beforeBatch = { [unowned worker] in
            guard held.load(ordering: .acquiring) else { return }
            while !worker.isLoopWaitingForRoom { usleep(200) }
            held.store(false, ordering: .releasing)
        }
        worker.start(name: "fence-worker-full-test")
        var walks = Walks(drivers: 20, seed: 11)
        var expected: [FenceEvent] = [], got: [FenceEvent] = []
        var handed = 0
        for _ in 0..<100 {
            let (states, previous) = walks.batch(40)
            states.withUnsafeBufferPointer { s in
                previous.withUnsafeBufferPointer { p in
                    inline.detector.process(s, previous: p, nowMs: walks.ts)
                    worker.submit(s, p, nowMs: walks.ts)
                }
            }
            handed += states.count
            expected += inline.detector.events
            inline.detector.events.removeAll()
        }
        #expect(handed == 4_000 && worker.capacity == 64)
        worker.quiesce()
        #expect(worker.backlog == 0)
        worker.takeEvents(into: &got)
        #expect(worker.fullWaits >= 1)
        #expect(expected.count > 100)
        #expect(got == expected)
        worker.stop()
    }

    @Test("stop() lets the thread decide every ping handed over before it ends; the detector then runs inline again")
    func stopDrains() throws {
        let bodies = try mixedFences(60, seed: 74, prefix: "f")
        let (inline, threaded) = try Fences.twins(bodies)
        let worker = FenceWorker(detector: threaded.detector, capacity: 8_192)
        worker.start(name: "fence-worker-stop-test")
        var walks = Walks(drivers: 30, seed: 12)
        var expected: [FenceEvent] = []
        for _ in 0..<20 {
            let (states, previous) = walks.batch(300)
            states.withUnsafeBufferPointer { s in
                previous.withUnsafeBufferPointer { p in
                    inline.detector.process(s, previous: p, nowMs: walks.ts)
                    worker.submit(s, p, nowMs: walks.ts)
                }
            }
            expected += inline.detector.events
            inline.detector.events.removeAll()
        }
        worker.stop()
        #expect(!worker.isRunning && worker.backlog == 0)
        var got: [FenceEvent] = []
        worker.takeEvents(into: &got)
        #expect(expected.count > 50)
        #expect(got == expected)
        // Stopped: the loop owns the detector again.
        let (states, previous) = walks.batch(200)
        states.withUnsafeBufferPointer { s in
            previous.withUnsafeBufferPointer { p in
                inline.detector.process(s, previous: p, nowMs: walks.ts)
                threaded.detector.process(s, previous: p, nowMs: walks.ts)
            }
        }
        #expect(threaded.detector.events == inline.detector.events)
        worker.stop()
    }

    @Test("a threaded FenceMonitor behind a real PingIngest counts the same events as an inline one once drained")
    func monitorThreadedMatchesInline() throws {
        let keys = PingKeys(secret: [UInt8](repeating: 7, count: 32))
        let bodies = try mixedFences(120, seed: 75, prefix: "f").filter { !$0.contains("expires_at_ms") }
        var counts: [[Int]] = []
        for threaded in [false, true] {
            let ingest = PingIngest(table: DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 3_600_000), keys: keys)
            let monitor = FenceMonitor(threaded: threaded)
            for b in bodies { try monitor.add(json: b, nowMs: 0) }
            var nowMs: Int64 = 1_700_000_000_000
            monitor.attach(to: ingest) { nowMs }
            var walks = Walks(drivers: 50, seed: 13)
            for _ in 0..<60 {
                let (states, _) = walks.batch(40)
                nowMs = 1_700_000_000_000 + walks.ts
                let records = states.map {
                    PingRecord(driverID: $0.id.rawValue, timestampMs: nowMs, latE7: $0.latE7, lngE7: $0.lngE7, status: 1)
                }
                let d = PingWire.encode(records, signerID: 1, gateway: true, key: keys.gatewayKey(1))
                d.withUnsafeBytes { ingest.ingestDatagram($0, nowMs: nowMs) }
            }
            monitor.drain()
            counts.append(monitor.eventCounts)
            monitor.stop()
        }
        #expect(counts[0].reduce(0, +) > 100)
        #expect(counts[0] == counts[1])
    }
}

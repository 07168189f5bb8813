import Crypto
import EventLoop
import FleetIndex
import Glibc
import Testing
import TestSupport
@testable import Engine
import Vocabulary

/// `PingIngest.ingestWindow` (keys derived and tags checked two at a time, rows loaded ahead) against
/// `ingestDatagram` one datagram at a time: the same counts and the same table, for every kind of datagram mixed in
/// windows of every size, with key caches so small that signers of one window evict each other.
@Suite struct PingIngestWindowTests {
    static let secret = [UInt8](repeating: 0x3C, count: 32)
    let keys = PingKeys(secret: PingIngestWindowTests.secret)
    let now: Int64 = 1_764_000_000_000

    func record(_ id: UInt64, ts: Int64, rng: inout SeededRandom) -> PingRecord {
        PingRecord(driverID: id, timestampMs: ts, latE7: Int32.random(in: 437_000_000...438_000_000, using: &rng),
                   lngE7: Int32.random(in: 73_000_000...75_000_000, using: &rng), speedCmPerSecond: 830,
                   headingCentidegrees: 9_000, accuracyDecimetres: 50, status: UInt8.random(in: 0...3, using: &rng))
    }

    /// A random datagram: mostly good (driver-signed, or gateway-signed with 1…40 records), else one of the bad kinds.
    /// Timestamps mostly rise with `index`, so most good records are accepted and some are replays.
    func randomDatagram(_ rng: inout SeededRandom, index: Int, sent: [[UInt8]]) -> (bytes: [UInt8], truncated: Bool) {
        let driver = UInt64.random(in: 1...12, using: &rng)
        let ts = now - 20_000 + Int64(index) * 10 - Int64.random(in: 0...50, using: &rng)
        switch Int.random(in: 0..<20, using: &rng) {
        case 0..<8:
            return (ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver, ts: ts, rng: &rng)],
                                           key: keys.driverKey(driver)), false)
        case 8..<12:
            let gateway = UInt64.random(in: 1...4, using: &rng)
            let records = (0..<Int.random(in: 1...40, using: &rng)).map { _ in
                record(UInt64.random(in: 1...30, using: &rng), ts: ts - Int64.random(in: 0...50, using: &rng), rng: &rng)
            }
            return (ReferenceDatagram.make(signer: gateway, gateway: true, records: records, key: keys.gatewayKey(gateway)), false)
        case 12:   // a replay of something already sent (maybe in this very window)
            return (sent.randomElement(using: &rng) ?? [], false)
        case 13:   // forged: one byte flipped
            var d = ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver, ts: ts, rng: &rng)],
                                           key: keys.driverKey(driver))
            d[Int.random(in: 0..<d.count, using: &rng)] ^= 0x10
            return (d, false)
        case 14:   // signed with the key of the other kind (a driver id that is also a gateway id)
            return (ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver, ts: ts, rng: &rng)],
                                           key: keys.gatewayKey(driver)), false)
        case 15:   // a foreign driver's record under a driver's own key
            return (ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver + 100, ts: ts, rng: &rng)],
                                           key: keys.driverKey(driver)), false)
        case 16:   // top bit set: never cached, derived every time
            let id = driver | (1 << 63)
            return (ReferenceDatagram.make(signer: id, gateway: false, records: [record(id, ts: ts, rng: &rng)],
                                           key: keys.driverKey(id)), false)
        case 17:   // skewed into the future, or off the map
            var r = record(driver, ts: now + 3_600_000, rng: &rng)
            if Bool.random(using: &rng) { r.timestampMs = ts; r.latE7 = 910_000_000 }
            return (ReferenceDatagram.make(signer: driver, gateway: false, records: [r], key: keys.driverKey(driver)), false)
        case 18:   // wrong version or short
            var d = ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver, ts: ts, rng: &rng)],
                                           key: keys.driverKey(driver))
            if Bool.random(using: &rng) { d[0] = 2 } else { d.removeLast(Int.random(in: 1...d.count, using: &rng)) }
            return (d, false)
        default:   // cut by the kernel
            return (ReferenceDatagram.make(signer: driver, gateway: false, records: [record(driver, ts: ts, rng: &rng)],
                                           key: keys.driverKey(driver)), true)
        }
    }

    func makeIngest(cache: Int) -> PingIngest {
        PingIngest(table: DriverTable(scheme: GridCellScheme(stepDegrees: 0.01)), keys: keys, keyCacheSize: cache)
    }

    /// Feeds `datagrams` to `ingest` as windows of the given sizes (cycled).
    func feedWindows(_ ingest: PingIngest, _ datagrams: [(bytes: [UInt8], truncated: Bool)], sizes: [Int]) {
        let sender = UnsafeMutablePointer<sockaddr>.allocate(capacity: 1)
        defer { sender.deallocate() }
        sender.initialize(to: sockaddr())
        let buffers = datagrams.map { d -> UnsafeMutableRawBufferPointer in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(d.bytes.count, 1), alignment: 8)
            b.copyBytes(from: d.bytes)
            return b
        }
        defer { buffers.forEach { $0.deallocate() } }
        let list = zip(datagrams, buffers).map { d, b in
            UDPDatagram(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[0..<d.bytes.count]),
                        sender: UnsafePointer(sender), isTruncated: d.truncated)
        }
        var from = 0, s = 0
        list.withUnsafeBufferPointer { all in
            while from < all.count {
                let to = min(all.count, from + sizes[s % sizes.count])
                ingest.ingestWindow(UDPBatch(datagrams: UnsafeBufferPointer(rebasing: all[from..<to])), nowMs: now)
                from = to
                s += 1
            }
        }
    }

    @Test("windows of 1…100 datagrams count and store exactly what datagram-at-a-time ingest does",
          arguments: [1, 2, 3, 4])
    func windowsMatchDatagrams(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &* 7919)
        var datagrams: [(bytes: [UInt8], truncated: Bool)] = []
        for i in 0..<1_500 { datagrams.append(randomDatagram(&rng, index: i, sent: datagrams.suffix(40).map(\.bytes))) }
        let reference = makeIngest(cache: 1 << 16)
        for d in datagrams {
            if d.truncated { reference.countTruncated() } else { d.bytes.withUnsafeBytes { reference.ingestDatagram($0, nowMs: now) } }
        }
        #expect(reference.counters.accepted[PingTransport.udp.rawValue] > 500)
        #expect(reference.counters.dropped.allSatisfy { $0 > 0 }, "every reason occurs: \(reference.counters.dropped)")
        for (cache, sizes) in [(1, [1, 2, 3]), (4, [32]), (8, [7, 100, 1, 64, 65]), (1 << 16, [33, 2, 31])] {
            let ingest = makeIngest(cache: cache)
            feedWindows(ingest, datagrams, sizes: sizes)
            let context = "seed \(seed), cache \(cache), windows \(sizes)"
            #expect(ingest.counters.datagrams == reference.counters.datagrams, "\(context)")
            #expect(ingest.counters.accepted == reference.counters.accepted, "\(context)")
            #expect(ingest.counters.dropped == reference.counters.dropped, "\(context)")
            #expect(ingest.table.count == reference.table.count, "\(context)")
            for id in 1...UInt64(130) {
                #expect(ingest.table.state(of: DriverID(id)) == reference.table.state(of: DriverID(id)), "\(context), driver \(id)")
            }
            for id in 1...UInt64(12) {
                let top = DriverID(id | (1 << 63))
                #expect(ingest.table.state(of: top) == reference.table.state(of: top), "\(context), driver \(top)")
            }
        }
    }

    @Test("listeners hear every accepted record of a window, in arrival order")
    func listenersInOrder() {
        var rng = SeededRandom(seed: 99)
        let ingest = makeIngest(cache: 2)
        var heard: [(UInt64, Int64)] = []
        var calls = 0
        ingest.acceptedListeners.append { states, transport in
            calls += 1
            if transport == .udp { for s in states { heard.append((s.id.rawValue, s.timestampMs)) } }
        }
        let datagrams = (0..<40).map { i -> (bytes: [UInt8], truncated: Bool) in
            let id = UInt64(1 + i % 5)
            return (ReferenceDatagram.make(signer: id, gateway: false, records: [record(id, ts: now - 1_000 + Int64(i), rng: &rng)],
                                           key: keys.driverKey(id)), false)
        }
        feedWindows(ingest, datagrams, sizes: [32])
        #expect(heard.map(\.0) == (0..<40).map { UInt64(1 + $0 % 5) })
        #expect(heard.map(\.1) == (0..<40).map { now - 1_000 + Int64($0) })
        #expect(calls == 2, "one call per window of 32, not one per record")
    }
}

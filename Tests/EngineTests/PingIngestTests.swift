import Crypto
import FleetIndex
import Testing
import TestSupport
@testable import Engine
import Vocabulary

/// Builds datagrams byte by byte, independently of `PingWire`'s encoder, so a bug shared by encoder and
/// decoder cannot hide.
struct ReferenceDatagram {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }

    static func make(signer: UInt64, gateway: Bool, records: [PingRecord], key: SymmetricKey, count: Int? = nil) -> [UInt8] {
        var d = ReferenceDatagram()
        d.u8(1); d.u8(gateway ? 1 : 0); d.u16(UInt16(count ?? records.count)); d.u32(0); d.u64(signer)
        for r in records {
            d.u64(r.driverID); d.u64(UInt64(bitPattern: r.timestampMs)); d.u32(UInt32(bitPattern: r.latE7))
            d.u32(UInt32(bitPattern: r.lngE7)); d.u16(r.speedCmPerSecond); d.u16(r.headingCentidegrees)
            d.u16(r.accuracyDecimetres); d.u8(r.status); d.u8(r.reserved)
        }
        let mac = HMAC<SHA256>.authenticationCode(for: d.bytes, using: key)
        d.bytes += Array(mac).prefix(16)
        return d.bytes
    }
}

@Suite struct PingIngestTests {
    static let secret = [UInt8](repeating: 0xAB, count: 32)
    let keys = PingKeys(secret: PingIngestTests.secret)
    let now: Int64 = 1_764_000_000_000

    func makeIngest() -> PingIngest {
        PingIngest(table: DriverTable(scheme: GridCellScheme(stepDegrees: 0.01)), keys: keys)
    }

    func rec(_ id: UInt64, ts: Int64, lat: Int32 = 437_300_000, lng: Int32 = 74_200_000, status: UInt8 = 1) -> PingRecord {
        PingRecord(driverID: id, timestampMs: ts, latE7: lat, lngE7: lng, speedCmPerSecond: 830,
                   headingCentidegrees: 9_000, accuracyDecimetres: 50, status: status)
    }

    func feed(_ ingest: PingIngest, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { ingest.ingestDatagram($0, nowMs: now) }
    }

    @Test("keys derive as HMAC-SHA256(secret, \"driver:<id>\")")
    func keyDerivation() {
        let want = HMAC<SHA256>.authenticationCode(for: Array("driver:42".utf8), using: SymmetricKey(data: Self.secret))
        #expect(keys.driverKeyHex(42) == Array(want).map { String(format: "%02x", $0) }.joined())
    }

    @Test("the encoder writes exactly what the byte-by-byte reference writes")
    func encoderMatchesReference() {
        let records = [rec(5, ts: now), rec(6, ts: now - 5, lat: -1, lng: -2, status: 3)]
        let key = keys.gatewayKey(9)
        #expect(PingWire.encode(records, signerID: 9, gateway: true, key: key)
                == ReferenceDatagram.make(signer: 9, gateway: true, records: records, key: key))
    }

    @Test("a driver-signed and a gateway-signed datagram are accepted into the table")
    func accepts() throws {
        let ingest = makeIngest()
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(7, ts: now)], key: keys.driverKey(7)))
        let batch = (100..<140).map { rec(UInt64($0), ts: now - 1) }
        feed(ingest, ReferenceDatagram.make(signer: 3, gateway: true, records: batch, key: keys.gatewayKey(3)))
        #expect(ingest.counters.accepted[PingTransport.udp.rawValue] == 41)
        #expect(ingest.counters.dropped.allSatisfy { $0 == 0 })
        let s = try #require(ingest.table.state(of: DriverID(7)))
        #expect(s.latE7 == 437_300_000 && s.lngE7 == 74_200_000 && s.status == .available)
        #expect(s.speedCmPerSecond == 830 && s.headingCentidegrees == 9_000 && s.accuracyDecimetres == 50)
    }

    @Test("every drop reason is counted and nothing bad reaches the table")
    func dropReasons() {
        let ingest = makeIngest()
        let good = ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(7, ts: now)], key: keys.driverKey(7))
        // truncated: short, one byte missing, one extra, count disagreeing with length, zero records
        feed(ingest, Array(good.prefix(20)))
        feed(ingest, Array(good.dropLast()))
        feed(ingest, good + [0])
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(7, ts: now)], key: keys.driverKey(7), count: 2))
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [], key: keys.driverKey(7)))
        #expect(ingest.counters.dropped[DropReason.truncated.rawValue] == 5)
        // version: another version byte, unknown flag bit, non-zero reserved header field
        var v = good; v[0] = 2; feed(ingest, v)
        var f = good; f[1] = 2; feed(ingest, f)
        var z = good; z[5] = 1; feed(ingest, z)
        #expect(ingest.counters.dropped[DropReason.version.rawValue] == 3)
        // bad_tag: a flipped record bit, a wrong key, a driver key claiming to be a gateway
        var t = good; t[20] ^= 1; feed(ingest, t)
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(7, ts: now)], key: keys.driverKey(8)))
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: true, records: [rec(7, ts: now)], key: keys.driverKey(7)))
        #expect(ingest.counters.dropped[DropReason.badTag.rawValue] == 3)
        // foreign_driver: a driver signing for someone else (the record is dropped, its own record kept)
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(8, ts: now), rec(7, ts: now - 3)], key: keys.driverKey(7)))
        #expect(ingest.counters.dropped[DropReason.foreignDriver.rawValue] == 1)
        // range: latitude, longitude, heading, status, reserved byte
        var bad = [rec(20, ts: now, lat: 900_000_001), rec(21, ts: now, lng: -1_800_000_001), rec(22, ts: now, status: 5)]
        var h = rec(23, ts: now); h.headingCentidegrees = 36_000; bad.append(h)
        var rsv = rec(24, ts: now); rsv.reserved = 1; bad.append(rsv)
        feed(ingest, ReferenceDatagram.make(signer: 1, gateway: true, records: bad, key: keys.gatewayKey(1)))
        #expect(ingest.counters.dropped[DropReason.range.rawValue] == 5)
        // skew: too far ahead and too far behind; the edges are accepted
        feed(ingest, ReferenceDatagram.make(signer: 1, gateway: true, records: [
            rec(30, ts: now + 30_001), rec(31, ts: now - 600_001), rec(32, ts: now + 30_000), rec(33, ts: now - 600_000),
        ], key: keys.gatewayKey(1)))
        #expect(ingest.counters.dropped[DropReason.skew.rawValue] == 2)
        // replay: the same datagram twice, and an older fix
        feed(ingest, good)
        feed(ingest, good)
        feed(ingest, ReferenceDatagram.make(signer: 7, gateway: false, records: [rec(7, ts: now - 10)], key: keys.driverKey(7)))
        #expect(ingest.counters.dropped[DropReason.replay.rawValue] == 2)
        for id: UInt64 in [8, 20, 21, 22, 23, 24, 30, 31] { #expect(ingest.table.state(of: DriverID(id)) == nil, "driver \(id)") }
        #expect(ingest.table.state(of: DriverID(32)) != nil && ingest.table.state(of: DriverID(33)) != nil)
        #expect(ingest.table.state(of: DriverID(7))?.timestampMs == now)
    }

    @Test("a driver id with the top bit set cannot reuse a cached gateway key")
    func keyCacheSeparatesKinds() {
        let ingest = makeIngest()
        let gatewayID: UInt64 = 5
        feed(ingest, ReferenceDatagram.make(signer: gatewayID, gateway: true, records: [rec(1, ts: now)], key: keys.gatewayKey(gatewayID)))
        let driverID = gatewayID | (1 << 63)
        feed(ingest, ReferenceDatagram.make(signer: driverID, gateway: false, records: [rec(driverID, ts: now)], key: keys.gatewayKey(gatewayID)))
        #expect(ingest.counters.dropped[DropReason.badTag.rawValue] == 1)
    }

    @Test("a driver id with the top bit set cannot evict a gateway's cached key with its own")
    func topBitDriverCannotPoisonGateway() {
        let ingest = makeIngest()
        let gatewayID: UInt64 = 5
        let driverID = gatewayID | (1 << 63)
        feed(ingest, ReferenceDatagram.make(signer: gatewayID, gateway: true, records: [rec(1, ts: now - 2)], key: keys.gatewayKey(gatewayID)))
        // Validly signed by the top-bit driver: accepted, and its key must not land in the gateway's slot under a tag
        // that reads as the gateway's.
        feed(ingest, ReferenceDatagram.make(signer: driverID, gateway: false, records: [rec(driverID, ts: now - 1)], key: keys.driverKey(driverID)))
        feed(ingest, ReferenceDatagram.make(signer: gatewayID, gateway: true, records: [rec(1, ts: now)], key: keys.gatewayKey(gatewayID)))
        #expect(ingest.counters.dropped[DropReason.badTag.rawValue] == 0)
        #expect(ingest.counters.accepted[PingTransport.udp.rawValue] == 3)
    }

    @Test("random garbage never traps and is always counted", arguments: [1, 2, 3])
    func garbage(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let ingest = makeIngest()
        for _ in 0..<2_000 {
            let n = Int.random(in: 0..<200, using: &rng)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if n > 0 && Bool.random(using: &rng) { bytes[0] = 1 }
            feed(ingest, bytes)
        }
        #expect(ingest.counters.dropped.reduce(0, +) == 2_000, "seed \(seed)")
        #expect(ingest.table.count == 0)
    }
}

import Engine
import EventLoop
import FleetIndex
import Glibc

/// The fixed clock of the UDP target (Unix ms); seeds carry timestamps around it.
let fuzzNowMs: Int64 = 1_764_000_000_000
/// The UDP secret of every target (drivers' keys derive from it, the seeds are signed with them).
let fuzzUDPSecret = [UInt8](repeating: 0x5A, count: 32)
let fuzzKeys = PingKeys(secret: fuzzUDPSecret)
/// One table for the process (a new one allocates its cell geometry cache, far more than an input costs); every
/// input ends by evicting all of its rows, so inputs stay independent.
let fuzzTable = DriverTable(scheme: H3CellScheme(resolution: 9), staleAfterMs: 120_000)

/// The UDP datagram path: layout, tag, record checks and the table writes, through a receive window or one datagram
/// at a time. Input: a mode byte, then length-prefixed datagrams. Mode bit 0 re-signs each datagram with its signer's
/// real key (so the fuzzer reaches the record checks instead of stopping at the tag), bit 1 takes the window path,
/// bit 2 marks the first datagram as truncated by the kernel. After each input the table's invariants are walked, its
/// rows evicted, and the invariants walked again.
let udpTarget = FuzzTarget(
    name: "udp",
    setUp: { _ = fuzzTable.count },   // its cache is built here, not inside the first input's time budget
    run: { input in
        guard let mode = input.first else { return }
        var datagrams = lengthPrefixedParts(UnsafeRawBufferPointer(rebasing: input.dropFirst())).map { Array($0) }
        if mode & 1 != 0 {
            for i in datagrams.indices where datagrams[i].count >= PingWire.headerBytes + PingWire.tagBytes {
                datagrams[i].withUnsafeMutableBytes { d in
                    let signer = UInt64(littleEndian: UnsafeRawBufferPointer(d).loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    let key = d[1] & PingWire.gatewayFlag != 0 ? fuzzKeys.preparedGateway(signer) : fuzzKeys.preparedDriver(signer)
                    PingTag.sign(d, prepared: key)
                }
            }
        }
        let table = fuzzTable
        let ingest = PingIngest(table: table, keys: fuzzKeys, keyCacheSize: 16)
        if mode & 2 != 0 {
            var sender = sockaddr()
            let buffers = datagrams.map { bytes -> UnsafeMutableRawBufferPointer in
                let b = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
                b.copyBytes(from: bytes)
                return b
            }
            defer { for b in buffers { b.deallocate() } }
            withUnsafePointer(to: &sender) { from in
                let list = buffers.enumerated().map { i, b in
                    UDPDatagram(bytes: UnsafeRawBufferPointer(b), sender: from, isTruncated: i == 0 && mode & 4 != 0)
                }
                list.withUnsafeBufferPointer { ingest.ingestWindow(UDPBatch(datagrams: $0), nowMs: fuzzNowMs) }
            }
        } else {
            for d in datagrams { d.withUnsafeBytes { ingest.ingestDatagram($0, nowMs: fuzzNowMs) } }
        }
        table.checkInvariants()
        table.evictStale(nowMs: fuzzNowMs + 1_000_000_000)
        table.checkInvariants()
        precondition(table.count == 0, "rows left after evicting everything")
    },
    seeds: {
        func record(_ driver: UInt64, _ dt: Int64, lat: Int32 = 437_311_000, lng: Int32 = 74_211_000, status: UInt8 = 1) -> PingRecord {
            PingRecord(driverID: driver, timestampMs: fuzzNowMs + dt, latE7: lat, lngE7: lng, speedCmPerSecond: 830,
                       headingCentidegrees: 9_000, accuracyDecimetres: 50, status: status)
        }
        let one = PingWire.encode([record(7, 0)], signerID: 7, gateway: false, key: fuzzKeys.driverKey(7))
        let older = PingWire.encode([record(7, -1_000)], signerID: 7, gateway: false, key: fuzzKeys.driverKey(7))
        let gateway = PingWire.encode((1...5).map { record($0, -Int64($0), lat: 437_300_000 + Int32($0) * 1000) },
                                     signerID: 900, gateway: true, key: fuzzKeys.gatewayKey(900))
        let foreign = PingWire.encode([record(8, 0)], signerID: 7, gateway: false, key: fuzzKeys.driverKey(7))
        let outOfRange = PingWire.encode([record(9, 0, lat: 900_000_001)], signerID: 9, gateway: false, key: fuzzKeys.driverKey(9))
        let skewed = PingWire.encode([record(10, 3_600_000)], signerID: 10, gateway: false, key: fuzzKeys.driverKey(10))
        var badTag = one
        badTag[badTag.count - 1] ^= 1
        return [
            ("single", [0] + lengthPrefixed([one])),
            ("single-resigned", [1] + lengthPrefixed([one])),
            ("replay", [0] + lengthPrefixed([one, older, one])),
            ("window", [2] + lengthPrefixed([one, gateway, foreign, outOfRange, skewed, badTag])),
            ("window-resigned-truncated", [7] + lengthPrefixed([badTag, gateway, one])),
            ("gateway", [3] + lengthPrefixed([gateway])),
        ]
    })

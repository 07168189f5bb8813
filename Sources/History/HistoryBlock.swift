import CZlib
import Vocabulary

/// The on-disk block: a 32-byte header, then `count` 24-byte records sorted by (driver, time). A block holds the
/// points of one flush that fall in one hour; its file is that hour's segment (docs/history.md).
///
/// Header (little-endian): magic `HXPB` (u32), count (u32), base time ms (i64: the block's earliest point),
/// largest time offset from the base (u32), CRC-32 of the records (u32), smallest driver id (u64).
/// Record: driver (u64), time offset from the base in ms (u32), latitude E7 (i32), longitude E7 (i32), speed cm/s
/// (u16), status (u8), one reserved zero byte.
enum HistoryBlock {
    static let magic: UInt32 = 0x4250_5848  // "HXPB" read little-endian
    static let headerBytes = 32
    static let recordBytes = 24
    /// A block never spans more than an hour, so every offset fits in 32 bits; the cap bounds a torn count.
    static let maxRecords = 1 << 24

    /// The parsed header of a block that checked out.
    struct Header: Equatable {
        var count: Int
        var baseMs: Int64
        var maxOffsetMs: UInt32
        var crc: UInt32
        var minDriver: UInt64
        var maxMs: Int64 { baseMs + Int64(maxOffsetMs) }
    }

    /// Encodes `points` (non-empty, all in one hour) as one block: sorted by (driver, time), header first.
    static func encode(_ points: inout [HistoryPoint]) -> [UInt8] {
        points.sort { ($0.driver.rawValue, $0.timestampMs) < ($1.driver.rawValue, $1.timestampMs) }
        var base = Int64.max, top = Int64.min
        for p in points {
            base = min(base, p.timestampMs)
            top = max(top, p.timestampMs)
        }
        var bytes = [UInt8](repeating: 0, count: headerBytes + points.count * recordBytes)
        bytes.withUnsafeMutableBytes { raw in
            var at = headerBytes
            for p in points {
                raw.storeBytes(of: p.driver.rawValue.littleEndian, toByteOffset: at, as: UInt64.self)
                raw.storeBytes(of: UInt32(p.timestampMs - base).littleEndian, toByteOffset: at + 8, as: UInt32.self)
                raw.storeBytes(of: p.latE7.littleEndian, toByteOffset: at + 12, as: Int32.self)
                raw.storeBytes(of: p.lngE7.littleEndian, toByteOffset: at + 16, as: Int32.self)
                raw.storeBytes(of: p.speedCmPerSecond.littleEndian, toByteOffset: at + 20, as: UInt16.self)
                raw.storeBytes(of: p.status.rawValue, toByteOffset: at + 22, as: UInt8.self)
                at += recordBytes
            }
            let records = UnsafeRawBufferPointer(rebasing: raw[headerBytes...])
            raw.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: UInt32(points.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: base.littleEndian, toByteOffset: 8, as: Int64.self)
            raw.storeBytes(of: UInt32(top - base).littleEndian, toByteOffset: 16, as: UInt32.self)
            raw.storeBytes(of: checksum(records).littleEndian, toByteOffset: 20, as: UInt32.self)
            raw.storeBytes(of: points[0].driver.rawValue.littleEndian, toByteOffset: 24, as: UInt64.self)
        }
        return bytes
    }

    /// The header at the start of `bytes`, if its magic and count are sane and its records (which must follow in
    /// `bytes`) match the checksum; nil for a torn or foreign block.
    static func header(_ bytes: UnsafeRawBufferPointer) -> Header? {
        guard bytes.count >= headerBytes, UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)) == magic else { return nil }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard count > 0, count <= maxRecords, bytes.count >= headerBytes + count * recordBytes else { return nil }
        let h = Header(count: count,
                       baseMs: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self)),
                       maxOffsetMs: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)),
                       crc: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 20, as: UInt32.self)),
                       minDriver: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        let records = UnsafeRawBufferPointer(rebasing: bytes[headerBytes..<(headerBytes + count * recordBytes)])
        guard checksum(records) == h.crc else { return nil }
        return h
    }

    /// The driver of record `i` in a block's records.
    @inline(__always)
    static func driver(_ records: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: records.loadUnaligned(fromByteOffset: i * recordBytes, as: UInt64.self))
    }

    /// Record `i` of a block whose base time is `baseMs`.
    static func point(_ records: UnsafeRawBufferPointer, _ i: Int, baseMs: Int64) -> HistoryPoint {
        let at = i * recordBytes
        return HistoryPoint(
            driver: DriverID(UInt64(littleEndian: records.loadUnaligned(fromByteOffset: at, as: UInt64.self))),
            timestampMs: baseMs + Int64(UInt32(littleEndian: records.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))),
            latE7: Int32(littleEndian: records.loadUnaligned(fromByteOffset: at + 12, as: Int32.self)),
            lngE7: Int32(littleEndian: records.loadUnaligned(fromByteOffset: at + 16, as: Int32.self)),
            speedCmPerSecond: UInt16(littleEndian: records.loadUnaligned(fromByteOffset: at + 20, as: UInt16.self)),
            status: DriverStatus(rawValue: records[at + 22]) ?? .offline)
    }

    /// The index of the first record whose driver is ≥ `driver` (records sorted by driver).
    static func lowerBound(_ records: UnsafeRawBufferPointer, count: Int, driver: UInt64) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if Self.driver(records, mid) < driver { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// zlib's CRC-32: a torn tail after a crash must not read back as points.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        return UInt32(crc32(0, base.assumingMemoryBound(to: UInt8.self), UInt32(bytes.count)))
    }
}

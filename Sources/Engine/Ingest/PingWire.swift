import FleetIndex
import Vocabulary

/// The UDP ping datagram, version 1 (docs/udp-protocol.md). Little-endian throughout.
///
/// ```
///  0      1      2      4            8                        16
///  +------+------+------+------------+------------------------+
///  | ver  | flags| count| reserved=0 | signer id (u64)        |   header, 16 bytes
///  +------+------+------+------------+------------------------+
///  | driver id u64 | ts ms i64 | lat e7 i32 | lng e7 i32 |        record, 32 bytes × count
///  | speed u16 | heading u16 | accuracy u16 | status u8 | 0 u8 |
///  +-----------------------------------------------------------+
///  | tag: first 16 bytes of HMAC-SHA256(key, header ‖ records) |   16 bytes
///  +-----------------------------------------------------------+
/// ```
public enum PingWire {
    public static let version: UInt8 = 1
    public static let headerBytes = 16
    public static let recordBytes = 32
    public static let tagBytes = 16
    /// Flags bit 0: signed by a gateway rather than by the driver itself.
    public static let gatewayFlag: UInt8 = 1
    /// The largest record count whose datagram fits a UDP payload of 65,507 bytes.
    public static let maxRecords = (65_507 - headerBytes - tagBytes) / recordBytes

    /// The exact datagram length for `records` records.
    @inlinable public static func datagramLength(records: Int) -> Int { headerBytes + records * recordBytes + tagBytes }
}

/// A decoded datagram header.
public struct PingHeader: Sendable, Equatable {
    public var flags: UInt8
    public var recordCount: Int
    public var signerID: UInt64

    @inlinable
    public init(flags: UInt8, recordCount: Int, signerID: UInt64) {
        self.flags = flags
        self.recordCount = recordCount
        self.signerID = signerID
    }

    /// Whether a gateway signed the datagram (flags bit 0).
    public var isGatewaySigned: Bool { flags & PingWire.gatewayFlag != 0 }
}

/// One record as sent on the wire, decoded without validation.
public struct PingRecord: Sendable, Equatable {
    public var driverID: UInt64
    public var timestampMs: Int64
    public var latE7: Int32
    public var lngE7: Int32
    public var speedCmPerSecond: UInt16
    public var headingCentidegrees: UInt16
    public var accuracyDecimetres: UInt16
    public var status: UInt8
    public var reserved: UInt8

    public init(driverID: UInt64, timestampMs: Int64, latE7: Int32, lngE7: Int32, speedCmPerSecond: UInt16 = 0,
                headingCentidegrees: UInt16 = 65535, accuracyDecimetres: UInt16 = 65535, status: UInt8, reserved: UInt8 = 0) {
        self.driverID = driverID
        self.timestampMs = timestampMs
        self.latE7 = latE7
        self.lngE7 = lngE7
        self.speedCmPerSecond = speedCmPerSecond
        self.headingCentidegrees = headingCentidegrees
        self.accuracyDecimetres = accuracyDecimetres
        self.status = status
        self.reserved = reserved
    }

    /// Whether every field is in its documented range (lat ±90e7, lng ±180e7, heading ≤ 35999 or 65535,
    /// a known status, reserved byte 0).
    @inlinable
    public var isInRange: Bool {
        latE7 >= -900_000_000 && latE7 <= 900_000_000 && lngE7 >= -1_800_000_000 && lngE7 <= 1_800_000_000
            && (headingCentidegrees <= 35_999 || headingCentidegrees == 65_535) && status <= 4 && reserved == 0
    }

    /// The record as table state (call only on records in range).
    @inlinable
    public var driverState: DriverState {
        DriverState(id: DriverID(driverID), latE7: latE7, lngE7: lngE7, timestampMs: timestampMs,
                    speedCmPerSecond: speedCmPerSecond, headingCentidegrees: headingCentidegrees,
                    accuracyDecimetres: accuracyDecimetres, status: DriverStatus(rawValue: status) ?? .offline)
    }
}

extension PingWire {
    /// Why a datagram's layout is refused.
    public enum LayoutError: Error, Sendable { case truncated, version }

    /// Checks the header and exact length of a datagram.
    /// - Throws: `.truncated` when the length is not 16 + 32·N + 16 with N ≥ 1; `.version` for another
    ///   version, unknown flag bits or a non-zero reserved field.
    @inlinable
    public static func header(_ d: UnsafeRawBufferPointer) throws(LayoutError) -> PingHeader {
        guard d.count >= headerBytes + recordBytes + tagBytes else { throw .truncated }
        guard d[0] == version else { throw .version }
        let flags = d[1]
        guard flags & ~gatewayFlag == 0 else { throw .version }
        let n = Int(UInt16(littleEndian: d.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        guard d.loadUnaligned(fromByteOffset: 4, as: UInt32.self) == 0 else { throw .version }
        guard n >= 1, d.count == datagramLength(records: n) else { throw .truncated }
        return PingHeader(flags: flags, recordCount: n,
                          signerID: UInt64(littleEndian: d.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Record `i` of a datagram whose layout `header(_:)` accepted, read in place.
    @inlinable @inline(__always)
    public static func record(_ d: UnsafeRawBufferPointer, _ i: Int) -> PingRecord {
        record(at: headerBytes + recordBytes * i, in: d)
    }

    /// The driver id of record `i` alone (one load, where `record(_:_:)` reads all eight fields).
    @inlinable @inline(__always)
    public static func driverID(_ d: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: d.loadUnaligned(fromByteOffset: headerBytes + recordBytes * i, as: UInt64.self))
    }

    /// A record at a byte offset (used by datagrams and by binary WebSocket frames, which carry bare records).
    @inlinable @inline(__always)
    public static func record(at o: Int, in d: UnsafeRawBufferPointer) -> PingRecord {
        PingRecord(
            driverID: UInt64(littleEndian: d.loadUnaligned(fromByteOffset: o, as: UInt64.self)),
            timestampMs: Int64(littleEndian: d.loadUnaligned(fromByteOffset: o + 8, as: Int64.self)),
            latE7: Int32(littleEndian: d.loadUnaligned(fromByteOffset: o + 16, as: Int32.self)),
            lngE7: Int32(littleEndian: d.loadUnaligned(fromByteOffset: o + 20, as: Int32.self)),
            speedCmPerSecond: UInt16(littleEndian: d.loadUnaligned(fromByteOffset: o + 24, as: UInt16.self)),
            headingCentidegrees: UInt16(littleEndian: d.loadUnaligned(fromByteOffset: o + 26, as: UInt16.self)),
            accuracyDecimetres: UInt16(littleEndian: d.loadUnaligned(fromByteOffset: o + 28, as: UInt16.self)),
            status: d[o + 30],
            reserved: d[o + 31])
    }

    /// Writes a record at a byte offset.
    @inlinable
    public static func write(_ r: PingRecord, at o: Int, into d: UnsafeMutableRawBufferPointer) {
        d.storeBytes(of: r.driverID.littleEndian, toByteOffset: o, as: UInt64.self)
        d.storeBytes(of: r.timestampMs.littleEndian, toByteOffset: o + 8, as: Int64.self)
        d.storeBytes(of: r.latE7.littleEndian, toByteOffset: o + 16, as: Int32.self)
        d.storeBytes(of: r.lngE7.littleEndian, toByteOffset: o + 20, as: Int32.self)
        d.storeBytes(of: r.speedCmPerSecond.littleEndian, toByteOffset: o + 24, as: UInt16.self)
        d.storeBytes(of: r.headingCentidegrees.littleEndian, toByteOffset: o + 26, as: UInt16.self)
        d.storeBytes(of: r.accuracyDecimetres.littleEndian, toByteOffset: o + 28, as: UInt16.self)
        d[o + 30] = r.status
        d[o + 31] = r.reserved
    }

    /// Writes a header.
    @inlinable
    public static func writeHeader(flags: UInt8, recordCount: Int, signerID: UInt64, into d: UnsafeMutableRawBufferPointer) {
        d[0] = version
        d[1] = flags
        d.storeBytes(of: UInt16(recordCount).littleEndian, toByteOffset: 2, as: UInt16.self)
        d.storeBytes(of: UInt32(0), toByteOffset: 4, as: UInt32.self)
        d.storeBytes(of: signerID.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
}

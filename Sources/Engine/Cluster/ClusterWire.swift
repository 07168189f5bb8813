import FleetIndex
import HexGeo
import Vocabulary

/// The binary messages engines send each other over NATS (docs/cluster.md). Little-endian; every message starts
/// with an 8-byte header whose first byte is its kind. Decoding never traps: a short or malformed message is nil.
enum ClusterWire {
    /// Message kinds on `hexfleet.ping.<node>`.
    static let recordsKind: UInt8 = 1
    static let claimsKind: UInt8 = 2
    /// Query kinds on `hexfleet.query.<node>` (points in radians, exactly as the asker parsed them).
    static let nearbyKind: UInt8 = 11
    static let cellsKind: UInt8 = 12
    static let polygonKind: UInt8 = 13
    static let driverKind: UInt8 = 14
    /// An answer's first byte.
    static let answerKind: UInt8 = 21
    static let headerBytes = 8
    /// Upper bounds a decoder accepts (a message is never larger than what an engine sends).
    static let maxCount = 1 << 20

    /// Whether `name` can be a node name: it becomes a NATS subject token, so 1…64 of `A-Z a-z 0-9 _ -`.
    static func isValidNodeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }
    }

    static func pingSubject(_ node: String) -> String { "hexfleet.ping." + node }
    static func querySubject(_ node: String) -> String { "hexfleet.query." + node }

    // MARK: forwarded records

    /// Starts a records message in `buffer` (emptied first); append records with `appendRecord`, then `finishRecords`.
    static func beginRecords(_ buffer: inout [UInt8], transport: PingTransport) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(recordsKind)
        buffer.append(UInt8(transport.rawValue))
        buffer.append(contentsOf: [0, 0, 0, 0, 0, 0])
    }

    /// Appends one 32-byte record (the UDP record layout, docs/udp-protocol.md).
    static func appendRecord(_ r: PingRecord, to buffer: inout [UInt8]) {
        let at = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: PingWire.recordBytes))
        buffer.withUnsafeMutableBytes { PingWire.write(r, at: at, into: $0) }
    }

    /// Writes the record count into a records message.
    static func finishRecords(_ buffer: inout [UInt8]) {
        let count = UInt32((buffer.count - headerBytes) / PingWire.recordBytes)
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: count.littleEndian, toByteOffset: 4, as: UInt32.self) }
    }

    /// The transport and records of a records message, or nil when it is not one or its length is wrong.
    static func records(_ d: UnsafeRawBufferPointer) -> (transport: PingTransport, records: UnsafeRawBufferPointer)? {
        guard d.count >= headerBytes, d[0] == recordsKind, let transport = PingTransport(rawValue: Int(d[1])) else { return nil }
        let count = Int(UInt32(littleEndian: d.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard count <= maxCount, d.count == headerBytes + count * PingWire.recordBytes else { return nil }
        return (transport, UnsafeRawBufferPointer(rebasing: d[headerBytes...]))
    }

    // MARK: claims

    /// A claim: `node` holds `driver` as of its accepted timestamp `timestampMs`.
    struct Claim: Sendable, Equatable {
        var driver: DriverID
        var timestampMs: Int64
    }

    static func claims(_ claims: [Claim], from node: String) -> [UInt8] {
        var w = ByteWriter()
        let name = Array(node.utf8.prefix(255))
        w.u8(claimsKind); w.u8(UInt8(name.count)); w.u16(0); w.u32(UInt32(claims.count))
        w.bytes.append(contentsOf: name)
        for c in claims { w.u64(c.driver.rawValue); w.i64(c.timestampMs) }
        return w.bytes
    }

    static func claims(_ d: [UInt8]) -> (node: String, claims: [Claim])? {
        var r = ByteReader(d)
        guard r.u8() == claimsKind, let nameCount = r.u8(), r.u16() != nil, let count = r.u32(), Int(count) <= maxCount,
              let name = r.take(Int(nameCount)), d.count == headerBytes + Int(nameCount) + Int(count) * 16 else { return nil }
        var out: [Claim] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let id = r.u64(), let ts = r.i64() else { return nil }
            out.append(Claim(driver: DriverID(id), timestampMs: ts))
        }
        return (String(decoding: name, as: UTF8.self), out)
    }

    // MARK: queries and answers

    static func encode(_ q: FleetQuery) -> [UInt8] {
        var w = ByteWriter()
        switch q {
        case let .nearby(point, k, radius, filter):
            w.header(nearbyKind, filter)
            w.f64(point.lat); w.f64(point.lng); w.u32(UInt32(k)); w.f64(radius)
        case let .cells(cells, filter):
            w.header(cellsKind, filter)
            w.u32(UInt32(cells.count))
            for c in cells { w.u64(c.rawValue) }
        case let .polygon(polygon, filter):
            w.header(polygonKind, filter)
            let rings = [polygon.outer] + polygon.holes
            w.u32(UInt32(rings.count))
            for ring in rings {
                w.u32(UInt32(ring.count))
                for p in ring { w.f64(p.lat); w.f64(p.lng) }
            }
        case let .driver(id):
            w.header(driverKind, .all)
            w.u64(id.rawValue)
        }
        return w.bytes
    }

    /// The query a request holds, or nil when it is malformed (the asker then hears nothing and times out).
    static func query(_ d: [UInt8]) -> FleetQuery? {
        var r = ByteReader(d)
        guard let kind = r.u8(), let filterBits = r.u8(), r.u16() != nil, r.u32() != nil else { return nil }
        let filter = StatusFilter(rawValue: filterBits & StatusFilter.all.rawValue)
        switch kind {
        case nearbyKind:
            guard let lat = r.f64(), let lng = r.f64(), let k = r.u32(), let radius = r.f64(), r.isAtEnd,
                  LatLng(lat: lat, lng: lng).isValid, k >= 1, k <= 1_000, radius >= 0 else { return nil }
            return .nearby(LatLng(lat: lat, lng: lng), k: Int(k), radiusMeters: radius, filter)
        case cellsKind:
            guard let n = r.u32(), n >= 1, n <= 10_000 else { return nil }
            var cells: [H3Cell] = []
            for _ in 0..<n {
                guard let raw = r.u64() else { return nil }
                let cell = H3Cell(rawValue: raw)
                guard H3.isValidCell(cell) else { return nil }
                cells.append(cell)
            }
            return r.isAtEnd ? .cells(cells, filter) : nil
        case polygonKind:
            guard let ringCount = r.u32(), ringCount >= 1, ringCount <= 1_000 else { return nil }
            var rings: [[LatLng]] = []
            for _ in 0..<ringCount {
                guard let n = r.u32(), n >= 3, n <= 10_000 else { return nil }
                var ring: [LatLng] = []
                for _ in 0..<n {
                    guard let lat = r.f64(), let lng = r.f64(), LatLng(lat: lat, lng: lng).isValid else { return nil }
                    ring.append(LatLng(lat: lat, lng: lng))
                }
                rings.append(ring)
            }
            guard r.isAtEnd else { return nil }
            return .polygon(GeoPolygon(outer: rings[0], holes: Array(rings.dropFirst())), filter)
        case driverKind:
            guard let id = r.u64(), r.isAtEnd else { return nil }
            return .driver(DriverID(id))
        default:
            return nil
        }
    }

    static func encode(_ answer: FleetAnswer) -> [UInt8] {
        var w = ByteWriter()
        let withDistance = answer.contains { $0.distanceMeters != nil }
        w.u8(answerKind); w.u8(withDistance ? 1 : 0); w.u16(0); w.u32(UInt32(answer.count))
        for d in answer {
            let s = d.state
            let record = PingRecord(driverID: s.id.rawValue, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7,
                                    speedCmPerSecond: s.speedCmPerSecond, headingCentidegrees: s.headingCentidegrees,
                                    accuracyDecimetres: s.accuracyDecimetres, status: s.status.rawValue)
            appendRecord(record, to: &w.bytes)
            if withDistance { w.f64(d.distanceMeters ?? 0) }
        }
        return w.bytes
    }

    /// The drivers of an answer, or nil when malformed.
    static func answer(_ d: [UInt8]) -> FleetAnswer? {
        guard d.count >= headerBytes, d[0] == answerKind, d[1] <= 1 else { return nil }
        let withDistance = d[1] == 1
        let size = PingWire.recordBytes + (withDistance ? 8 : 0)
        return d.withUnsafeBytes { raw -> FleetAnswer? in
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            guard count <= maxCount, d.count == headerBytes + count * size else { return nil }
            var out: FleetAnswer = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let at = headerBytes + i * size
                let r = PingWire.record(at: at, in: raw)
                guard r.isInRange else { return nil }
                let distance = withDistance
                    ? Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + PingWire.recordBytes, as: UInt64.self)))
                    : nil
                // A distance is a length in metres: NaN, infinite or negative is a malformed answer (NaN would also
                // break the merge's ordering and make the answer unequal to itself).
                if let distance, !(distance.isFinite && distance >= 0) { return nil }
                out.append(FleetAnswerDriver(state: r.driverState, distanceMeters: distance))
            }
            return out
        }
    }
}

/// Little-endian appends.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func f64(_ v: Double) { u64(v.bitPattern) }
    mutating func header(_ kind: UInt8, _ filter: StatusFilter) { u8(kind); u8(filter.rawValue); u16(0); u32(0) }
}

/// Little-endian reads that return nil past the end.
struct ByteReader {
    private let bytes: [UInt8]
    private var at = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var isAtEnd: Bool { at == bytes.count }

    mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, bytes.count - at >= n else { return nil }
        defer { at += n }
        return bytes[at..<at + n]
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let slice = take(MemoryLayout<T>.size) else { return nil }
        var v: T = 0
        for (i, b) in slice.enumerated() { v |= T(b) << (8 * i) }
        return v
    }

    mutating func u8() -> UInt8? { load(UInt8.self) }
    mutating func u16() -> UInt16? { load(UInt16.self) }
    mutating func u32() -> UInt32? { load(UInt32.self) }
    mutating func u64() -> UInt64? { load(UInt64.self) }
    mutating func i64() -> Int64? { u64().map { Int64(bitPattern: $0) } }
    mutating func f64() -> Double? { u64().map { Double(bitPattern: $0) } }
}

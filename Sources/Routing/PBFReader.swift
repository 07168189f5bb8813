import Foundation

/// Receives the primitives of an OSM PBF file in file order.
protocol OSMVisitor {
    /// A node (plain or dense) with its position in degrees.
    mutating func node(id: Int64, latDegrees: Double, lngDegrees: Double)
    /// A way with its tags and node references.
    mutating func way(id: Int64, tags: [String: String], refs: [Int64])
    /// A relation with its tags and members.
    mutating func relation(id: Int64, tags: [String: String], members: [OSMMember])
}

/// One member of an OSM relation.
struct OSMMember: Sendable, Equatable {
    /// The member's element type.
    enum Kind: UInt8, Sendable { case node = 0, way = 1, relation = 2 }
    var kind: Kind
    var id: Int64
    var role: String
}

/// Counts of primitives read from a PBF file; dense nodes count as nodes, as `osmium fileinfo -e` does.
public struct PBFCounts: Sendable, Equatable {
    /// Nodes read, plain and dense.
    public var nodes = 0
    /// Ways read.
    public var ways = 0
    /// Relations read.
    public var relations = 0
    /// Blobs read (header and data).
    public var blobs = 0
}

/// Decodes OSM PBF files: a sequence of (4-byte big-endian length, BlobHeader, Blob) frames whose Blobs hold
/// zlib-compressed HeaderBlock and PrimitiveBlock messages (see the OSM wiki's "PBF Format" page).
///
/// Field numbers used below come from the published `fileformat.proto` and `osmformat.proto`.
enum PBFReader {
    /// Reads every primitive of the file at `path` into `visitor`.
    ///
    /// - Parameter progress: called with (bytes read, total bytes) after each blob.
    static func read<V: OSMVisitor>(path: String, into visitor: inout V,
                                    progress: ((Int, Int) -> Void)? = nil) throws(RoutingError) -> PBFCounts {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw RoutingError(.io, "cannot read \(path): \(error.localizedDescription)") }
        return try read(bytes: data, into: &visitor, progress: progress)
    }

    /// Reads every primitive of an in-memory PBF file into `visitor`.
    static func read<V: OSMVisitor>(bytes data: Data, into visitor: inout V,
                                    progress: ((Int, Int) -> Void)? = nil) throws(RoutingError) -> PBFCounts {
        var counts = PBFCounts()
        var scratch = Scratch()
        var inflated: [UInt8] = []
        let result: Result<Void, RoutingError> = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            do throws(RoutingError) {
                var offset = 0
                while offset < raw.count {
                    guard raw.count - offset >= 4 else { throw RoutingError(.truncated, "file ends inside a blob length at byte \(offset)") }
                    let headerLength = Int(raw[offset]) << 24 | Int(raw[offset + 1]) << 16 | Int(raw[offset + 2]) << 8 | Int(raw[offset + 3])
                    offset += 4
                    guard headerLength <= 64 << 10 else { throw RoutingError(.badProtobuf, "BlobHeader of \(headerLength) bytes at byte \(offset - 4) exceeds 64 KiB") }
                    guard raw.count - offset >= headerLength else { throw RoutingError(.truncated, "file ends inside a BlobHeader at byte \(offset)") }
                    let (type, dataSize) = try blobHeader(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + headerLength]))
                    offset += headerLength
                    guard dataSize >= 0, dataSize <= 32 << 20 else { throw RoutingError(.badProtobuf, "Blob size \(dataSize) outside 0…32 MiB") }
                    guard raw.count - offset >= dataSize else { throw RoutingError(.truncated, "file ends inside a \(type) Blob at byte \(offset)") }
                    let blob = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + dataSize])
                    offset += dataSize
                    counts.blobs += 1
                    try inflateBlob(blob, into: &inflated)
                    let decoded: Result<Void, RoutingError> = inflated.withUnsafeBytes { (block: UnsafeRawBufferPointer) in
                        do throws(RoutingError) {
                            switch type {
                            case "OSMHeader": try headerBlock(block)
                            case "OSMData": try primitiveBlock(block, visitor: &visitor, counts: &counts, scratch: &scratch)
                            default: break   // unknown blob types are skipped, as the format asks
                            }
                            return .success(())
                        } catch {
                            return .failure(error)
                        }
                    }
                    try decoded.get()
                    progress?(offset, raw.count)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        guard counts.blobs > 0 else { throw RoutingError(.truncated, "the file holds no blobs") }
        return counts
    }

    /// Reused decode buffers.
    private struct Scratch {
        var strings: [String] = []
        var u64: [UInt64] = []
        var u64b: [UInt64] = []
        var s64: [Int64] = []
        var s64b: [Int64] = []
        var s64c: [Int64] = []
        var i64: [Int64] = []
    }

    private static func blobHeader(_ bytes: UnsafeRawBufferPointer) throws(RoutingError) -> (String, Int) {
        var r = ProtobufReader(bytes)
        var type = ""
        var size = -1
        while let (number, wire) = try r.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): type = String(decoding: try r.bytes(), as: UTF8.self)
            case (3, .varint): size = Int(truncatingIfNeeded: Int32(truncatingIfNeeded: try r.varint()))
            default: try r.skip(wire)
            }
        }
        guard size >= 0 else { throw RoutingError(.badProtobuf, "BlobHeader without datasize") }
        return (type, size)
    }

    private static func inflateBlob(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) throws(RoutingError) {
        var r = ProtobufReader(bytes)
        var rawSize = -1
        var raw: UnsafeRawBufferPointer?
        var zlib: UnsafeRawBufferPointer?
        var other: UInt64?
        while let (number, wire) = try r.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): raw = try r.bytes()
            case (2, .varint): rawSize = Int(truncatingIfNeeded: Int32(truncatingIfNeeded: try r.varint()))
            case (3, .lengthDelimited): zlib = try r.bytes()
            case (4...7, .lengthDelimited): other = number; try r.skip(wire)
            default: try r.skip(wire)
            }
        }
        if let raw {
            out.removeAll(keepingCapacity: true)
            out.append(contentsOf: raw)
        } else if let zlib {
            try Inflater.inflate(zlib, expectedSize: rawSize, into: &out)
        } else if let other {
            let names: [UInt64: String] = [4: "LZMA", 5: "bzip2", 6: "LZ4", 7: "Zstandard"]
            throw RoutingError(.unsupported, "\(names[other] ?? "unknown") blobs are not supported; re-encode with zlib")
        } else {
            throw RoutingError(.badProtobuf, "Blob holds no data")
        }
    }

    private static func headerBlock(_ bytes: UnsafeRawBufferPointer) throws(RoutingError) {
        var r = ProtobufReader(bytes)
        while let (number, wire) = try r.field() {
            if number == 4, wire == .lengthDelimited {
                let feature = String(decoding: try r.bytes(), as: UTF8.self)
                guard feature == "OsmSchema-V0.6" || feature == "DenseNodes" else {
                    throw RoutingError(.unsupported, "required feature \(feature) is not supported")
                }
            } else {
                try r.skip(wire)
            }
        }
    }

    private static func primitiveBlock<V: OSMVisitor>(_ bytes: UnsafeRawBufferPointer, visitor: inout V,
                                                      counts: inout PBFCounts, scratch: inout Scratch) throws(RoutingError) {
        // First pass: string table and coordinate parameters (they may follow the groups on the wire).
        var r = ProtobufReader(bytes)
        var granularity: Int64 = 100
        var latOffset: Int64 = 0
        var lngOffset: Int64 = 0
        scratch.strings.removeAll(keepingCapacity: true)
        while let (number, wire) = try r.field() {
            switch (number, wire) {
            case (1, .lengthDelimited):
                var table = try r.subReader()
                while let (n, w) = try table.field() {
                    if n == 1, w == .lengthDelimited { scratch.strings.append(String(decoding: try table.bytes(), as: UTF8.self)) }
                    else { try table.skip(w) }
                }
            case (17, .varint): granularity = Int64(truncatingIfNeeded: Int32(truncatingIfNeeded: try r.varint()))
            case (19, .varint): latOffset = Int64(bitPattern: try r.varint())
            case (20, .varint): lngOffset = Int64(bitPattern: try r.varint())
            default: try r.skip(wire)
            }
        }
        let coords = Coordinates(granularity: granularity, latOffset: latOffset, lngOffset: lngOffset)
        r = ProtobufReader(bytes)
        while let (number, wire) = try r.field() {
            guard number == 2, wire == .lengthDelimited else { try r.skip(wire); continue }
            var group = try r.subReader()
            while let (n, w) = try group.field() {
                switch (n, w) {
                case (1, .lengthDelimited):
                    var sub = try group.subReader()
                    try plainNode(&sub, coords: coords, visitor: &visitor)
                    counts.nodes += 1
                case (2, .lengthDelimited):
                    var sub = try group.subReader()
                    counts.nodes += try denseNodes(&sub, coords: coords, visitor: &visitor, scratch: &scratch)
                case (3, .lengthDelimited):
                    var sub = try group.subReader()
                    try way(&sub, visitor: &visitor, scratch: &scratch)
                    counts.ways += 1
                case (4, .lengthDelimited):
                    var sub = try group.subReader()
                    try relation(&sub, visitor: &visitor, scratch: &scratch)
                    counts.relations += 1
                default: try group.skip(w)
                }
            }
        }
    }

    private struct Coordinates {
        var granularity: Int64, latOffset: Int64, lngOffset: Int64
        func degrees(_ offset: Int64, _ value: Int64) -> Double { 1e-9 * Double(offset &+ granularity &* value) }
        /// Node `id`'s position in degrees; one off the globe (a corrupt offset, granularity or delta) is refused
        /// here, since the graph build would trap on it.
        func position(id: Int64, lat: Int64, lng: Int64) throws(RoutingError) -> (lat: Double, lng: Double) {
            let position = (lat: degrees(latOffset, lat), lng: degrees(lngOffset, lng))
            guard abs(position.lat) <= 90, abs(position.lng) <= 180 else {
                throw RoutingError(.badProtobuf, "node \(id) lies at (\(position.lat), \(position.lng)), not on the globe")
            }
            return position
        }
    }

    private static func plainNode<V: OSMVisitor>(_ r: inout ProtobufReader, coords: Coordinates, visitor: inout V) throws(RoutingError) {
        var id: Int64 = 0, lat: Int64 = 0, lng: Int64 = 0
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .varint): id = try r.signedVarint()
            case (8, .varint): lat = try r.signedVarint()
            case (9, .varint): lng = try r.signedVarint()
            default: try r.skip(w)
            }
        }
        let position = try coords.position(id: id, lat: lat, lng: lng)
        visitor.node(id: id, latDegrees: position.lat, lngDegrees: position.lng)
    }

    private static func denseNodes<V: OSMVisitor>(_ r: inout ProtobufReader, coords: Coordinates, visitor: inout V,
                                                  scratch: inout Scratch) throws(RoutingError) -> Int {
        scratch.s64.removeAll(keepingCapacity: true)
        scratch.s64b.removeAll(keepingCapacity: true)
        scratch.s64c.removeAll(keepingCapacity: true)
        while let (n, w) = try r.field() {
            switch n {
            case 1: try r.appendSignedVarints(w, to: &scratch.s64)
            case 8: try r.appendSignedVarints(w, to: &scratch.s64b)
            case 9: try r.appendSignedVarints(w, to: &scratch.s64c)
            default: try r.skip(w)
            }
        }
        let count = scratch.s64.count
        guard scratch.s64b.count == count, scratch.s64c.count == count else {
            throw RoutingError(.badProtobuf, "DenseNodes with \(count) ids but \(scratch.s64b.count) lats and \(scratch.s64c.count) lons")
        }
        var id: Int64 = 0, lat: Int64 = 0, lng: Int64 = 0
        for i in 0..<count {
            id &+= scratch.s64[i]
            lat &+= scratch.s64b[i]
            lng &+= scratch.s64c[i]
            let position = try coords.position(id: id, lat: lat, lng: lng)
            visitor.node(id: id, latDegrees: position.lat, lngDegrees: position.lng)
        }
        return count
    }

    private static func tags(keys: [UInt64], values: [UInt64], strings: [String]) throws(RoutingError) -> [String: String] {
        guard keys.count == values.count else { throw RoutingError(.badProtobuf, "\(keys.count) tag keys but \(values.count) values") }
        var tags: [String: String] = [:]
        for i in keys.indices {
            guard keys[i] < strings.count, values[i] < strings.count else {
                throw RoutingError(.badProtobuf, "tag string index outside the string table")
            }
            tags[strings[Int(keys[i])]] = strings[Int(values[i])]
        }
        return tags
    }

    private static func way<V: OSMVisitor>(_ r: inout ProtobufReader, visitor: inout V, scratch: inout Scratch) throws(RoutingError) {
        var id: Int64 = 0
        scratch.u64.removeAll(keepingCapacity: true)
        scratch.u64b.removeAll(keepingCapacity: true)
        scratch.s64.removeAll(keepingCapacity: true)
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .varint): id = Int64(bitPattern: try r.varint())
            case (2, _): try r.appendVarints(w, to: &scratch.u64)
            case (3, _): try r.appendVarints(w, to: &scratch.u64b)
            case (8, _): try r.appendSignedVarints(w, to: &scratch.s64)
            default: try r.skip(w)
            }
        }
        var refs = [Int64]()
        refs.reserveCapacity(scratch.s64.count)
        var ref: Int64 = 0
        for delta in scratch.s64 {
            ref &+= delta
            refs.append(ref)
        }
        visitor.way(id: id, tags: try tags(keys: scratch.u64, values: scratch.u64b, strings: scratch.strings), refs: refs)
    }

    private static func relation<V: OSMVisitor>(_ r: inout ProtobufReader, visitor: inout V, scratch: inout Scratch) throws(RoutingError) {
        var id: Int64 = 0
        scratch.u64.removeAll(keepingCapacity: true)
        scratch.u64b.removeAll(keepingCapacity: true)
        scratch.s64.removeAll(keepingCapacity: true)
        scratch.i64.removeAll(keepingCapacity: true)
        scratch.s64b.removeAll(keepingCapacity: true)
        while let (n, w) = try r.field() {
            switch (n, w) {
            case (1, .varint): id = Int64(bitPattern: try r.varint())
            case (2, _): try r.appendVarints(w, to: &scratch.u64)
            case (3, _): try r.appendVarints(w, to: &scratch.u64b)
            case (8, _): try r.appendInts(w, to: &scratch.i64)
            case (9, _): try r.appendSignedVarints(w, to: &scratch.s64)
            case (10, _): try r.appendInts(w, to: &scratch.s64b)
            default: try r.skip(w)
            }
        }
        let count = scratch.s64.count
        guard scratch.i64.count == count, scratch.s64b.count == count else {
            throw RoutingError(.badProtobuf, "relation \(id) has \(count) members but \(scratch.i64.count) roles and \(scratch.s64b.count) types")
        }
        var members = [OSMMember]()
        members.reserveCapacity(count)
        var memberId: Int64 = 0
        for i in 0..<count {
            memberId &+= scratch.s64[i]
            let roleIndex = scratch.i64[i]
            guard roleIndex >= 0, roleIndex < scratch.strings.count else { throw RoutingError(.badProtobuf, "member role outside the string table") }
            guard let kind = OSMMember.Kind(rawValue: UInt8(truncatingIfNeeded: scratch.s64b[i])), scratch.s64b[i] >= 0, scratch.s64b[i] <= 2 else {
                throw RoutingError(.badProtobuf, "member type \(scratch.s64b[i]) is not node, way or relation")
            }
            members.append(OSMMember(kind: kind, id: memberId, role: scratch.strings[Int(roleIndex)]))
        }
        visitor.relation(id: id, tags: try tags(keys: scratch.u64, values: scratch.u64b, strings: scratch.strings), members: members)
    }
}

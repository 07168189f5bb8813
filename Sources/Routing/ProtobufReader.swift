/// A forward-only reader of protobuf wire format over borrowed bytes.
///
/// Hand-written rather than generated: OSM PBF needs about a dozen fields from six messages, so a small
/// decoder that reads straight from the inflated bytes avoids a codegen plugin, a runtime dependency and
/// an intermediate object per node. Every read is bounds-checked and throws `RoutingError.badProtobuf`
/// instead of trapping on hostile input.
struct ProtobufReader {
    /// Wire types of the protobuf encoding.
    enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    private let base: UnsafeRawBufferPointer
    private(set) var position: Int
    private let end: Int

    /// A reader over `bytes`; the caller keeps the bytes alive while reading.
    init(_ bytes: UnsafeRawBufferPointer) {
        self.base = bytes
        self.position = 0
        self.end = bytes.count
    }

    private init(base: UnsafeRawBufferPointer, start: Int, end: Int) {
        self.base = base
        self.position = start
        self.end = end
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { position >= end }

    /// Reads a base-128 varint.
    mutating func varint() throws(RoutingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw RoutingError(.badProtobuf, "varint runs past the end of its message") }
            let byte = base[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw RoutingError(.badProtobuf, "varint longer than 10 bytes") }
        }
    }

    /// Reads a zigzag-encoded signed varint (`sint64`).
    mutating func signedVarint() throws(RoutingError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a field key; nil at the end of the message.
    mutating func field() throws(RoutingError) -> (number: UInt64, wire: WireType)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw RoutingError(.badProtobuf, "unknown wire type \(key & 7)")
        }
        return (key >> 3, wire)
    }

    /// Reads a length-delimited field's bytes as a sub-reader.
    mutating func subReader() throws(RoutingError) -> ProtobufReader {
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw RoutingError(.badProtobuf, "length-delimited field of \(length) bytes overruns its message")
        }
        let start = position
        position += Int(length)
        return ProtobufReader(base: base, start: start, end: position)
    }

    /// Reads a length-delimited field's bytes as a buffer slice.
    mutating func bytes() throws(RoutingError) -> UnsafeRawBufferPointer {
        let sub = try subReader()
        return UnsafeRawBufferPointer(rebasing: base[sub.position..<sub.end])
    }

    /// Skips a field of the given wire type.
    mutating func skip(_ wire: WireType) throws(RoutingError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try subReader()
        }
    }

    private mutating func advance(_ count: Int) throws(RoutingError) {
        guard count <= end - position else { throw RoutingError(.badProtobuf, "fixed-width field overruns its message") }
        position += count
    }

    /// Reads a repeated varint field, packed or not, appending each value.
    mutating func appendVarints(_ wire: WireType, to out: inout [UInt64]) throws(RoutingError) {
        if wire == .varint {
            out.append(try varint())
            return
        }
        guard wire == .lengthDelimited else { throw RoutingError(.badProtobuf, "repeated varint with wire type \(wire)") }
        var sub = try subReader()
        while !sub.isAtEnd { out.append(try sub.varint()) }
    }

    /// Reads a repeated `sint64` field, packed or not, appending each value.
    mutating func appendSignedVarints(_ wire: WireType, to out: inout [Int64]) throws(RoutingError) {
        if wire == .varint {
            out.append(try signedVarint())
            return
        }
        guard wire == .lengthDelimited else { throw RoutingError(.badProtobuf, "repeated sint64 with wire type \(wire)") }
        var sub = try subReader()
        while !sub.isAtEnd { out.append(try sub.signedVarint()) }
    }

    /// Reads a repeated `int32`/`int64` field, packed or not, appending each value (two's complement).
    mutating func appendInts(_ wire: WireType, to out: inout [Int64]) throws(RoutingError) {
        if wire == .varint {
            out.append(Int64(bitPattern: try varint()))
            return
        }
        guard wire == .lengthDelimited else { throw RoutingError(.badProtobuf, "repeated int with wire type \(wire)") }
        var sub = try subReader()
        while !sub.isAtEnd { out.append(Int64(bitPattern: try sub.varint())) }
    }
}

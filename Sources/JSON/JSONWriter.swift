/// Appends JSON to a byte buffer: no Foundation, no intermediate strings for structure.
///
/// Commas are placed automatically: a bit per nesting level (up to 64 levels) records whether the level already
/// holds a value. Strings are escaped per RFC 8259 (`"`, `\`, and control characters; everything else passes
/// through as UTF-8). Doubles use Swift's shortest round-trip form (`Double.description`), so parsing the output
/// gives back the same bits; non-finite numbers become `null`, which JSON has no other spelling for.
///
/// ```
/// var w = JSONWriter()
/// w.beginObject(); w.key("id"); w.number(7 as Int); w.key("lat"); w.number(52.52); w.endObject()
/// // {"id":7,"lat":52.52}
/// ```
public struct JSONWriter {
    /// The JSON written so far.
    public var bytes: [UInt8]
    // Internal but inlinable (here and below): callers in Engine and HTTPServer write JSON on hot paths (the
    // tracking fan-out), and a call across the module boundary cannot be inlined otherwise.
    @usableFromInline var hasValue: UInt64 = 0
    @usableFromInline var depth = 0
    @usableFromInline var afterKey = false

    /// A writer with room for `capacity` bytes.
    @inlinable
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity, to reuse the writer.
    @inlinable
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        hasValue = 0
        depth = 0
        afterKey = false
    }

    @inlinable @inline(__always)
    mutating func separator() {
        if afterKey { afterKey = false; return }
        guard depth > 0, depth <= 64 else { return }
        let bit: UInt64 = 1 << UInt64(depth - 1)
        if hasValue & bit != 0 { bytes.append(UInt8(ascii: ",")) } else { hasValue |= bit }
    }

    /// Opens an object (`{`).
    @inlinable
    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); push() }
    /// Closes an object (`}`).
    @inlinable
    public mutating func endObject() { pop(); bytes.append(UInt8(ascii: "}")) }
    /// Opens an array (`[`).
    @inlinable
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); push() }
    /// Closes an array (`]`).
    @inlinable
    public mutating func endArray() { pop(); bytes.append(UInt8(ascii: "]")) }

    @inlinable
    mutating func push() {
        depth += 1
        if depth <= 64 { hasValue &= ~(1 << UInt64(depth - 1)) }
    }
    @inlinable
    mutating func pop() { if depth > 0 { depth -= 1 } }

    /// Writes an object key; the next value belongs to it.
    @inlinable
    public mutating func key(_ name: String) {
        separator()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes a string value, escaped.
    @inlinable
    public mutating func string(_ value: String) { separator(); appendQuoted(value) }

    /// Writes an integer.
    @inlinable
    public mutating func number<I: BinaryInteger>(_ value: I) {
        separator()
        appendInteger(value)
    }

    // Concrete overloads: callers in other modules would otherwise run the unspecialized generic (witness-table
    // calls and boxing per digit), which showed up in the ingest profile through the tracking hub's encoder.
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: Int) { separator(); appendInteger(Int64(value)) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: Int64) { separator(); appendInteger(value) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: Int32) { separator(); appendInteger(Int64(value)) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: UInt64) { separator(); appendInteger(value) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: UInt32) { separator(); appendInteger(UInt64(value)) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: UInt16) { separator(); appendInteger(UInt64(value)) }
    /// Writes an integer.
    @inlinable
    public mutating func number(_ value: UInt8) { separator(); appendInteger(UInt64(value)) }

    /// Writes a double in shortest round-trip form; NaN and infinities become `null`.
    @inlinable
    public mutating func number(_ value: Double) {
        separator()
        guard value.isFinite else { bytes.append(contentsOf: "null".utf8); return }
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            // Integral values: "12" rather than Swift's "12.0" (both parse to the same double).
            if value == 0, value.sign == .minus { bytes.append(contentsOf: "-0.0".utf8); return }
            appendInteger(Int64(value))
            return
        }
        var text = value.description   // shortest round-trip digits; ≤ 15 bytes stays inline, no allocation
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Writes `true` or `false`.
    @inlinable
    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    /// Writes `null`.
    @inlinable
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8) }

    /// Writes already-encoded JSON as one value (the caller vouches it is valid).
    @inlinable
    public mutating func raw(_ json: [UInt8]) { separator(); bytes.append(contentsOf: json) }

    /// Writes a ``JSONValue``.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): separator(); bytes.append(contentsOf: n.text.utf8)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (k, v) in members { key(k); self.value(v) }
            endObject()
        }
    }

    @inlinable @inline(__always)
    mutating func appendInteger<I: BinaryInteger>(_ value: I) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch on the stack
        var magnitude = value.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while magnitude > 0 {
                let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
                scratch[23 - count] = UInt8(ascii: "0") + UInt8(r)
                magnitude = q
                count += 1
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    // Not inlinable: the escaping loop is the bulk of the code and runs once per string either way.
    @usableFromInline
    mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              Self.hex[Int(c >> 4)], Self.hex[Int(c & 0xF)]])
                }
            }
            if runStart < utf8.count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

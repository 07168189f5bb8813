/// A strict RFC 8259 reader: one value, optional surrounding whitespace, nothing else.
///
/// Rejects what lenient parsers accept (trailing commas, comments, single quotes, leading zeros, bare control
/// characters in strings, lone surrogates) and limits nesting to ``maxDepth``, so a hostile body costs bounded
/// stack. Errors name the reason and byte offset.
public struct JSONReader {
    /// The deepest nesting accepted.
    public static let maxDepth = 64

    /// Parses `bytes` as one JSON value.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            var reader = Cursor(bytes: buffer)
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.index == buffer.count else { throw JSONError(reason: .trailingData, offset: reader.index) }
            return value
        }
    }

    /// Parses a UTF-8 string as one JSON value.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        func fail(_ reason: JSONError.Reason) -> JSONError { JSONError(reason: reason, offset: index) }

        mutating func value(depth: Int) throws(JSONError) -> JSONValue {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw fail(.unexpectedByte)
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONError) {
            let n = word.utf8CodeUnitCount
            guard index + n <= bytes.count else { throw fail(.unexpectedEnd) }
            for i in 0..<n where bytes[index + i] != word.utf8Start[i] {
                index += i
                throw fail(.unexpectedByte)
            }
            index += n
        }

        mutating func object(depth: Int) throws(JSONError) -> JSONValue {
            guard depth <= JSONReader.maxDepth else { throw fail(.tooDeep) }
            index += 1
            var members: [(String, JSONValue)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                guard bytes[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedByte) }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                guard bytes[index] == UInt8(ascii: ":") else { throw fail(.unexpectedByte) }
                index += 1
                skipWhitespace()
                members.append((key, try value(depth: depth)))
                skipWhitespace()
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw fail(.unexpectedByte)
            }
        }

        mutating func array(depth: Int) throws(JSONError) -> JSONValue {
            guard depth <= JSONReader.maxDepth else { throw fail(.tooDeep) }
            index += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw fail(.unexpectedByte)
            }
        }

        mutating func number() throws(JSONError) -> JSONNumber {
            let start = index
            func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw fail(.invalidNumber) }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if isDigit(index) { throw fail(.invalidNumber) }   // no leading zeros
            } else {
                while isDigit(index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard isDigit(index) else { throw fail(.invalidNumber) }
                while isDigit(index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard isDigit(index) else { throw fail(.invalidNumber) }
                while isDigit(index) { index += 1 }
            }
            return JSONNumber(text: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail(.unexpectedEnd) }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw fail(.invalidEscape)
                }
                v = v << 4 | UInt32(d)
                index += 1
            }
            return v
        }

        mutating func string() throws(JSONError) -> String {
            index += 1   // opening quote
            var out: [UInt8] = []
            var runStart = index
            while true {
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                    index += 1
                    break
                }
                if c < 0x20 { throw fail(.invalidString) }
                if c == UInt8(ascii: "\\") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                    index += 1
                    guard index < bytes.count else { throw fail(.unexpectedEnd) }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw fail(.invalidEscape) }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidEscape) }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw fail(.invalidEscape)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail(.invalidEscape) }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        index -= 1
                        throw fail(.invalidEscape)
                    }
                    runStart = index
                    continue
                }
                index += 1
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail(.invalidUTF8) }
            return s
        }
    }
}

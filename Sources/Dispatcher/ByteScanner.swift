#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only tokenizer over bytes that tracks the line number; never reads past the end.
struct ByteScanner {
    enum Cost { case value(Double), forbidden, missing, bad(String) }

    let p: UnsafeRawBufferPointer
    var pos = 0
    var line = 1

    init(_ p: UnsafeRawBufferPointer) { self.p = p }

    var isAtEnd: Bool { pos >= p.count }

    @inline(__always) func byte(_ k: Int) -> UInt8 { k < p.count ? p[k] : 0x0A }

    /// Skips spaces and tabs (and `\r`).
    @inline(__always) mutating func skipSpaces() {
        while pos < p.count, p[pos] == 0x20 || p[pos] == 0x09 || p[pos] == 0x0D { pos += 1 }
    }

    /// Whether only spaces remain before the line's end (or the input's end).
    mutating func atEndOfLine() -> Bool {
        skipSpaces()
        return pos >= p.count || p[pos] == 0x0A
    }

    /// Moves past the current line's newline.
    mutating func nextLine() {
        while pos < p.count, p[pos] != 0x0A { pos += 1 }
        if pos < p.count {
            pos += 1
            line += 1
        }
    }

    /// Skips lines holding only whitespace; stays at the start of the first non-blank line.
    mutating func skipBlankLines() {
        while pos < p.count {
            var k = pos
            while k < p.count, p[k] == 0x20 || p[k] == 0x09 || p[k] == 0x0D { k += 1 }
            if k < p.count, p[k] == 0x0A {
                pos = k + 1
                line += 1
            } else if k >= p.count {
                pos = k
            } else {
                return
            }
        }
    }

    /// A non-negative decimal integer token, or nil.
    mutating func integer() -> Int? {
        skipSpaces()
        var v = 0, digits = 0
        while pos < p.count, p[pos] >= 0x30, p[pos] <= 0x39, digits < 12 {
            v = v * 10 + Int(p[pos] - 0x30)
            pos += 1
            digits += 1
        }
        guard digits > 0, isDelimiter(pos) else { return nil }
        return v
    }

    @inline(__always) func isDelimiter(_ k: Int) -> Bool {
        k >= p.count || p[k] == 0x20 || p[k] == 0x09 || p[k] == 0x0D || p[k] == 0x0A
    }

    private static let powersOfTen: [Double] = (0...22).map { k in
        var x = 1.0
        for _ in 0..<k { x *= 10 }
        return x
    }

    /// The next cost token on this line.
    mutating func cost() -> Cost {
        skipSpaces()
        guard pos < p.count, p[pos] != 0x0A else { return .missing }
        let begin = pos
        if p[pos] == 0x2D, isDelimiter(pos + 1) {   // "-"
            pos += 1
            return .forbidden
        }
        // Fast path: [-]digits[.digits] with at most 15 significant digits is exact as
        // mantissa / 10^k (both exactly representable, one correctly rounded division).
        var k = pos
        var negative = false
        if p[k] == 0x2D {
            negative = true
            k += 1
        }
        var mantissa: UInt64 = 0, digits = 0, fraction = 0, sawDot = false
        while k < p.count {
            let b = p[k]
            if b >= 0x30, b <= 0x39 {
                if mantissa != 0 || b != 0x30 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(b - 0x30)
                if sawDot { fraction += 1 }
            } else if b == 0x2E, !sawDot {
                sawDot = true
            } else {
                break
            }
            k += 1
        }
        if k > begin + (negative ? 1 : 0), isDelimiter(k), digits <= 15, fraction <= 22,
            !(sawDot && k == begin + (negative ? 2 : 1))
        {
            var x = Double(mantissa)
            if fraction > 0 { x /= Self.powersOfTen[fraction] }
            pos = k
            return .value(negative ? -x : x)
        }
        // Slow path: the token through the C library's correctly rounded strtod, NUL-terminated
        // in a small stack buffer (the input itself has no terminator).
        var end = begin
        while !isDelimiter(end) { end += 1 }
        pos = end
        let length = end - begin
        var parsed: Double? = nil
        if length < 64 {
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf in
                for t in 0..<length { buf[t] = CChar(bitPattern: p[begin + t]) }
                buf[length] = 0
                var endPtr: UnsafeMutablePointer<CChar>? = nil
                let x = strtod(buf.baseAddress!, &endPtr)
                if let e = endPtr, e == buf.baseAddress! + length, length > 0 { parsed = x }
            }
        }
        if let x = parsed { return .value(x) }
        return .bad(String(decoding: UnsafeRawBufferPointer(rebasing: p[begin..<min(end, begin + 40)]), as: UTF8.self))
    }
}

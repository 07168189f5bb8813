/// Splits and percent-decodes `application/x-www-form-urlencoded` text (a URL's query string).
///
/// `+` decodes to a space; `%XX` to its byte; a malformed escape (`%G1`, a `%` near the end) or bytes that are not
/// UTF-8 make ``decode(_:)`` return nil and ``parse(_:)`` throw, never trap.
public enum QueryString {
    /// Parses `a=1&b=x%20y` into ordered pairs; a key without `=` gets an empty value; empty pieces are skipped.
    public static func parse(_ query: Substring) throws(APIError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring, value: Substring
            if let eq = piece.firstIndex(of: "=") {
                key = piece[..<eq]
                value = piece[piece.index(after: eq)...]
            } else {
                key = piece
                value = ""
            }
            guard let k = decode(key, plusIsSpace: true), let v = decode(value, plusIsSpace: true) else {
                throw APIError(.invalidParameter, "malformed percent-encoding in the query string")
            }
            pairs.append((k, v))
        }
        return pairs
    }

    /// Percent-decodes `text`; nil for a malformed escape or invalid UTF-8.
    public static func decode(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        let utf8 = text.utf8
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "%") {
                let h = utf8.index(after: i)
                guard h != utf8.endIndex else { return nil }
                let l = utf8.index(after: h)
                guard l != utf8.endIndex, let hi = hexValue(utf8[h]), let lo = hexValue(utf8[l]) else { return nil }
                out.append(hi << 4 | lo)
                i = utf8.index(after: l)
                continue
            }
            out.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
            i = utf8.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

import JSON
import Testing
import TestSupport

@Suite("JSON writer and reader")
struct JSONTests {
    @Test("the writer escapes quotes, backslashes and control characters and passes other UTF-8 through")
    func escaping() {
        var w = JSONWriter()
        w.beginObject()
        w.key("s"); w.string("a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}é→😀/")
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"{"s":"a\"b\\c\n\r\t\b\f\u0001\u001fé→😀/"}"#)
    }

    @Test("commas and nesting come out right")
    func structure() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a"); w.beginArray(); w.number(1 as Int); w.number(-2 as Int); w.beginObject(); w.endObject(); w.endArray()
        w.key("b"); w.bool(true)
        w.key("c"); w.null()
        w.key("d"); w.number(UInt64.max)
        w.key("e"); w.number(Int64.min)
        w.endObject()
        #expect(String(decoding: w.bytes, as: UTF8.self)
                == #"{"a":[1,-2,{}],"b":true,"c":null,"d":18446744073709551615,"e":-9223372036854775808}"#)
    }

    @Test("doubles are written in shortest form and read back bit for bit", arguments: [
        0.1, -0.0, 1.0, 52.520008, 13.404954, 1e-7, Double.leastNonzeroMagnitude, 1.7976931348623157e308, 123456789012345.6,
        2.5e15, -37.8136, 1.0 / 3.0, 0.30000000000000004,
    ])
    func doubleRoundTrip(value: Double) throws {
        var w = JSONWriter()
        w.number(value)
        let parsed = try JSONReader.parse(w.bytes)
        let back = try #require(parsed.double)
        #expect(back.bitPattern == value.bitPattern, "\(value) wrote \(String(decoding: w.bytes, as: UTF8.self))")
    }

    @Test("integral doubles print without a fraction and non-finite ones as null")
    func numberForms() {
        var w = JSONWriter()
        w.beginArray(); w.number(12.0); w.number(Double.nan); w.number(-Double.infinity); w.number(0.5); w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[12,null,null,0.5]")
    }

    @Test("the reader parses every JSON type and keeps 64-bit integers exact")
    func readerValues() throws {
        let v = try JSONReader.parse(#" {"id": 18446744073709551615, "lat": -33.5, "ok": true, "n": null, "s": "x\u00e9\ud83d\ude00\n", "a": [1, [2]]} "#)
        #expect(v["id"]?.uint64 == UInt64.max)
        #expect(v["lat"]?.double == -33.5)
        #expect(v["ok"]?.bool == true)
        #expect(v["n"]?.isNull == true)
        #expect(v["s"]?.string == "xé😀\n")
        #expect(v["a"]?.array?.count == 2)
        #expect(v["missing"] == nil)
    }

    @Test("the reader rejects invalid JSON with a reason and offset", arguments: [
        ("", JSONError.Reason.unexpectedEnd, 0),
        ("{\"a\":1,}", .unexpectedByte, 7),
        ("[1 2]", .unexpectedByte, 3),
        ("01", .invalidNumber, 1),
        ("1.", .invalidNumber, 2),
        ("-", .invalidNumber, 1),
        ("\"abc", .unexpectedEnd, 4),
        ("\"a\u{01}\"", .invalidString, 2),
        (#""\x""#, .invalidEscape, 2),
        (#""\ud800""#, .invalidEscape, 7),
        ("tru", .unexpectedEnd, 0),
        ("nul!", .unexpectedByte, 3),
        ("{} x", .trailingData, 3),
        ("{'a':1}", .unexpectedByte, 1),
    ])
    func readerErrors(input: String, reason: JSONError.Reason, offset: Int) {
        do {
            _ = try JSONReader.parse(input)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.reason == reason, "\(input): \(error)")
            #expect(error.offset == offset, "\(input): \(error)")
        }
    }

    @Test("deep nesting is refused, not a stack overflow")
    func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONError.self) { try JSONReader.parse(deep) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect((try? JSONReader.parse(ok)) != nil)
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONError.self) { try JSONReader.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("written values read back equal", arguments: 0..<20)
    func writerReaderRoundTrip(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed))
        let value = randomValue(&rng, depth: 0)
        var w = JSONWriter()
        w.value(value)
        #expect(try JSONReader.parse(w.bytes) == value, "seed \(seed)")
    }
}

func randomValue(_ rng: inout SeededRandom, depth: Int) -> JSONValue {
    switch Int.random(in: depth > 3 ? 0...3 : 0...5, using: &rng) {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2:
        var w = JSONWriter()
        w.number(Double.random(in: -1e6...1e6, using: &rng))
        return .number(JSONNumber(text: String(decoding: w.bytes, as: UTF8.self)))
    case 3:
        let scalars: [Character] = ["a", "\"", "\\", "\n", "\u{01}", "é", "😀", " "]
        return .string(String((0..<Int.random(in: 0...8, using: &rng)).map { _ in scalars.randomElement(using: &rng)! }))
    case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        return .object((0..<Int.random(in: 0...4, using: &rng)).map { i in ("k\(i)", randomValue(&rng, depth: depth + 1)) })
    }
}

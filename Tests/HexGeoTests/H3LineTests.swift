import Foundation
import Testing
import TestSupport
@testable import HexGeo

@Suite struct H3LineTests {
    @Test("bad lines are typed errors, never traps", arguments: [
        (H3Line.Function.latLngToCell, "1,2"),
        (.latLngToCell, "nan,2,3"),
        (.latLngToCell, "1,2,16"),
        (.latLngToCell, "1,2,x"),
        (.cellToLatLng, "zz"),
        (.cellToLatLng, "ffffffffffffffff"),
        (.cellToLatLng, ""),
        (.cellToBoundary, "0"),
        (.gridDisk, "89283082803ffff,-1"),
        (.gridDisk, "89283082803ffff,100000"),
        (.cellToParent, "89283082803ffff,10"),
        (.cellToChildren, "89283082803ffff,8"),
        (.cellToChildren, "8009fffffffffff,15"),
        // Trapped (arithmetic overflow in the "8 resolutions below" check) before the fix: found by the crash audit.
        (.cellToChildren, "851f8d7bfffffff,-9223372036854775808"),
        (.cellToChildren, "851f8d7bfffffff,9223372036854775807"),
        (.cellToParent, "851f8d7bfffffff,-9223372036854775808"),
        (.gridDisk, "851f8d7bfffffff,-9223372036854775808"),
        (.latLngToCell, "0,0,-9223372036854775808"),
        (.isValidCell, "12345678901234567"),
        (.gridDistance, "89283082803ffff"),
    ])
    func badLines(function: H3Line.Function, line: String) {
        #expect(throws: H3Line.LineError.self) { try H3Line.evaluate(function, line[...]) }
    }

    @Test("grid-distance reports -1 where H3 cannot compute a distance")
    func distanceErrors() throws {
        #expect(try H3Line.evaluate(.gridDistance, "89283082803ffff,8928308280fffff") == "1")
        #expect(try H3Line.evaluate(.gridDistance, "89283082803ffff,8828308281fffff") == "-1")   // resolutions differ
        #expect(try H3Line.evaluate(.gridDistance, "8009fffffffffff,80f3fffffffffff") == "-1")   // not neighbouring base cells
    }

    @Test("fields may carry spaces and a carriage return")
    func whitespace() throws {
        #expect(try H3Line.evaluate(.latLngToCell, " 37.7 , -122.4 ,9\r") == "89283090b37ffff")
    }
}

@Suite struct H3LineFuzzTests {
    /// What lines are made of; `scripts/make-h3-line-fuzz-oracle` holds the same list.
    static let pieces = ["", "0", "-1", "15", "16", "1000", "99999999999999999999", "nan", "inf", "1e308", "-90", "180.5",
                         "8009fffffffffff", "89283082803ffff", "ffffffffffffffff", "0x12", "zz", " ", "8f0440b4e261075",
                         "81083ffffffffff", "2", "-2147483649", "7"]

    /// `fixtures/h3_line_fuzz_oracle.tsv`, made by `scripts/make-h3-line-fuzz-oracle` with H3 4.5.0 itself: for
    /// every line of the right field count built from `pieces`, by "function\tline" (fields trimmed), H3's answer
    /// in the CLI's format, or "!" where the line must be refused.
    static let oracle: Result<[String: String], any Error> = Result {
        let url = SharedData.repoRoot.appendingPathComponent("fixtures/h3_line_fuzz_oracle.tsv")
        var table: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            table[columns[0] + "\t" + columns[1]] = String(columns[2])
        }
        return table
    }

    /// The oracle's form of a cell list: `#count sum xor` (wrapping sum and xor of the 64-bit values, in hex).
    static func digest(_ list: String) -> String {
        var count = 0, sum: UInt64 = 0, xor: UInt64 = 0
        for token in list.split(separator: " ") {
            let v = UInt64(token, radix: 16) ?? 0
            count += 1; sum &+= v; xor ^= v
        }
        return "#\(count) \(String(sum, radix: 16)) \(String(xor, radix: 16))"
    }

    /// Whether H3Line's answer `got` is H3's answer `want` (lists by digest, angles within 1e-9 degrees).
    static func same(_ function: H3Line.Function, _ got: String, _ want: String) -> Bool {
        switch function {
        case .gridDisk, .cellToChildren: return digest(got) == want
        case .cellToLatLng, .cellToBoundary:
            func numbers(_ s: String) -> [Double?] { s.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "," }).map { Double($0) } }
            let a = numbers(got), b = numbers(want)
            return a.count == b.count && zip(a, b).allSatisfy { x, y in
                guard let x, let y else { return false }
                return abs(x - y) <= 1e-9
            }
        default: return got == want
        }
    }

    enum Outcome { case answered, refused, wrong }

    /// Checks one line against the oracle: `.wrong` (after recording an issue) when H3Line and H3 disagree.
    static func check(_ function: H3Line.Function, _ line: String, oracle: [String: String]) -> Outcome {
        let got: String?
        do { got = try H3Line.evaluate(function, line[...]) } catch { got = nil }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        guard fields.count == function.inputColumns else {
            // The CLI's own format: the wrong number of fields is refused whatever H3 would say.
            if let got { Issue.record("\(function.rawValue) \"\(line)\": \(fields.count) fields answered \(got.prefix(80))"); return .wrong }
            return .refused
        }
        let key = function.rawValue + "\t" + fields.joined(separator: ",")
        guard let want = oracle[key] else {
            Issue.record("\(key) is not in the oracle: run scripts/make-h3-line-fuzz-oracle after changing the pieces")
            return .wrong
        }
        switch (got, want) {
        case (nil, "!"): return .refused
        case (nil, _): Issue.record("\(function.rawValue) \"\(line)\": refused, H3 answers \(want.prefix(80))")
        case (let got?, "!"): Issue.record("\(function.rawValue) \"\(line)\": answered \(got.prefix(80)), H3 refuses")
        case (let got?, _):
            if same(function, got, want) { return .answered }
            Issue.record("\(function.rawValue) \"\(line)\": answered \(got.prefix(80)), H3 answers \(want.prefix(80))")
        }
        return .wrong
    }

    @Test("random lines get H3's own answer, or a refusal exactly where H3 or the line format refuses")
    func fuzz() throws {
        let oracle = try Self.oracle.get()
        let seed = SeededGenerator.seed()
        print("H3LineFuzzTests.fuzz seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        var answered = 0, refused = 0, wrong = 0
        for _ in 0..<3000 {
            let function = H3Line.Function.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 0...4, using: &rng)
            let line = (0..<n).map { _ in Self.pieces.randomElement(using: &rng)! }.joined(separator: ",")
            switch Self.check(function, line, oracle: oracle) {
            case .answered: answered += 1
            case .refused: refused += 1
            case .wrong: wrong += 1
            }
        }
        #expect(wrong == 0, "seed \(seed): \(wrong) lines differ from H3")
        #expect(answered > 0 && refused > 0, "seed \(seed): \(answered) answered, \(refused) refused")
    }

    @Test("every line of the fuzz oracle: H3Line answers what H3 answers and refuses what H3 refuses",
          arguments: H3Line.Function.allCases)
    func everyOracleLine(function: H3Line.Function) throws {
        let oracle = try Self.oracle.get()
        let prefix = function.rawValue + "\t"
        var answered = 0, refused = 0, wrong = 0
        for (key, _) in oracle where key.hasPrefix(prefix) {
            switch Self.check(function, String(key.dropFirst(prefix.count)), oracle: oracle) {
            case .answered: answered += 1
            case .refused: refused += 1
            case .wrong: wrong += 1
            }
        }
        #expect(wrong == 0, "\(wrong) \(function.rawValue) lines differ from H3")
        // Each function meets both outcomes in the oracle (H3 answers some lines and refuses others).
        #expect(answered > 0 && refused > 0, "\(function.rawValue): \(answered) answered, \(refused) refused")
    }
}

import Testing
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
    @Test("random and mutated lines give an answer or a LineError, never a trap")
    func fuzz() throws {
        let seed = SeededGenerator.seed()
        print("H3LineFuzzTests.fuzz seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        let pieces = ["", "0", "-1", "15", "16", "1000", "99999999999999999999", "nan", "inf", "1e308", "-90", "180.5",
                      "8009fffffffffff", "89283082803ffff", "ffffffffffffffff", "0x12", "zz", " ", "8f0440b4e261075",
                      "81083ffffffffff", "2", "-2147483649", "7"]
        var answered = 0, refused = 0
        for _ in 0..<3000 {
            let function = H3Line.Function.allCases.randomElement(using: &rng)!
            let n = Int.random(in: 0...4, using: &rng)
            let line = (0..<n).map { _ in pieces.randomElement(using: &rng)! }.joined(separator: ",")
            do {
                _ = try H3Line.evaluate(function, line[...])
                answered += 1
            } catch {
                refused += 1
            }
        }
        #expect(answered + refused == 3000)
        #expect(answered > 0 && refused > 0, "seed \(seed)")
    }
}

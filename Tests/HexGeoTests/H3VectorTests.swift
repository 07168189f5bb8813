import Testing
import TestSupport
@testable import HexGeo
import Vocabulary

/// Every line of every reference file in shared/data/h3, fed through `H3Line` (exactly what `hexfleet h3` runs).
@Suite struct H3VectorTests {
    /// Runs `function` over `file`, comparing with the expected columns; records the first 20 misses.
    func check(_ file: String, _ function: H3Line.Function, input: [Int], expected: [Int], angles: Bool = false) throws {
        let vectors = try VectorFile("h3/" + file)
        #expect(vectors.rows.count > 0, "\(file) is empty")
        var misses = 0
        for row in vectors.rows {
            let line = input.map { row.text($0) }.joined(separator: ",")
            let want = expected.map { row.text($0) }.joined(separator: ",")
            let got: String
            do { got = try H3Line.evaluate(function, line[...]) } catch { got = "error: \(error)" }
            if angles ? sameAngles(got, want) : got == want { continue }
            misses += 1
            if misses <= 20 {
                Issue.record("\(file):\(row.number) \(function.rawValue) \(line): got \(got.prefix(200)) want \(want.prefix(200))")
            }
        }
        #expect(misses == 0, "\(misses) of \(vectors.rows.count) lines of \(file) differ")
    }

    /// Same numbers within 1e-9 degrees.
    func sameAngles(_ a: String, _ b: String) -> Bool {
        func nums(_ s: String) -> [Double]? {
            let parts = s.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "," })
            let v = parts.compactMap { Double($0) }
            return v.count == parts.count ? v : nil
        }
        guard let x = nums(a), let y = nums(b), x.count == y.count else { return false }
        return zip(x, y).allSatisfy { abs($0 - $1) <= 1e-9 }
    }

    @Test("latLngToCell matches H3 4.5.0 on every reference line")
    func latLngToCell() throws { try check("latlng_to_cell.csv", .latLngToCell, input: [0, 1, 2], expected: [3]) }

    @Test("cellToLatLng matches within 1e-9 degrees on every reference line")
    func cellToLatLng() throws { try check("cell_to_latlng.csv", .cellToLatLng, input: [0], expected: [1, 2], angles: true) }

    @Test("cellToBoundary matches vertex for vertex, in order, within 1e-9 degrees")
    func cellToBoundary() throws { try check("cell_to_boundary.csv", .cellToBoundary, input: [0], expected: [1], angles: true) }

    @Test("gridDisk gives exactly H3's set on every reference line")
    func gridDisk() throws { try check("grid_disk.csv", .gridDisk, input: [0, 1], expected: [2]) }

    @Test("cellToParent matches on every reference line")
    func cellToParent() throws { try check("parent_children.csv", .cellToParent, input: [0, 1], expected: [2]) }

    @Test("cellToChildren matches on every reference line")
    func cellToChildren() throws { try check("parent_children.csv", .cellToChildren, input: [0, 3], expected: [4]) }

    @Test("gridDistance matches, including -1 where H3 reports an error")
    func gridDistance() throws { try check("grid_distance.csv", .gridDistance, input: [0, 1], expected: [2]) }

    @Test("isValidCell matches on every reference line")
    func isValidCell() throws { try check("is_valid_cell.csv", .isValidCell, input: [0], expected: [1]) }

    @Test("the typed API agrees with the line format on latLngToCell vectors")
    func typedAPI() throws {
        let vectors = try VectorFile("h3/latlng_to_cell.csv")
        var misses = 0
        for row in vectors.rows {
            let cell = try H3.latLngToCell(LatLng(degrees: row.double(0), row.double(1)), resolution: row.int(2))
            guard cell.rawValue != (try row.hex(3)) else { continue }
            misses += 1
            if misses <= 20 { Issue.record("line \(row.number): got \(cell), want \(row.text(3))") }
        }
        #expect(misses == 0)
    }
}

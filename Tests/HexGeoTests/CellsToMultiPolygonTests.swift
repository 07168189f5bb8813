import Testing
@testable import HexGeo
import Vocabulary

@Suite struct CellsToMultiPolygonTests {
    static func disk(_ c: H3Cell, _ k: Int) throws -> [H3Cell] {
        var out: [H3Cell] = []
        try H3.gridDisk(c, k: k, into: &out)
        return out
    }

    @Test("a disk minus its centre and a far disk: two polygons, one with a hole; polygonToCells gives the cells back")
    func outlineRoundTrip() throws {
        let a = try H3.latLngToCell(LatLng(degrees: 43.7384, 7.4246), resolution: 9)
        let b = try H3.latLngToCell(LatLng(degrees: 43.7600, 7.4600), resolution: 9)
        let cells = try Self.disk(a, 3).filter { $0 != a } + Self.disk(b, 1)
        let polygons = try H3.cellsToMultiPolygon(cells)
        #expect(polygons.count == 2)
        #expect(polygons.map(\.count).sorted() == [1, 2])   // rings per polygon: outer only; outer and hole
        for polygon in polygons {
            #expect(H3.signedArea(polygon[0]) > 0)
            for hole in polygon.dropFirst() { #expect(H3.signedArea(hole) < 0) }
        }
        var back: [H3Cell] = []
        for polygon in polygons {
            back += try H3.polygonToCells(GeoPolygon(outer: polygon[0], holes: Array(polygon.dropFirst())), resolution: 9)
        }
        #expect(Set(back) == Set(cells))
        // A lone cell is its own hexagon; no cells, no polygons.
        let lone = try H3.cellsToMultiPolygon([a])
        #expect(lone.count == 1 && lone[0].count == 1 && lone[0][0].count == 6)
        #expect(try H3.cellsToMultiPolygon([]).isEmpty)
    }

    @Test("an invalid cell is an error")
    func invalidCell() {
        #expect(throws: HexGeoError.self) { try H3.cellsToMultiPolygon([H3Cell(rawValue: 0)]) }
    }
}

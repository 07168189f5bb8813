import Testing
@testable import HexGeo
import Vocabulary

@Suite struct GeoPolygonTests {
    static func ring(_ pts: [(Double, Double)]) -> [LatLng] { pts.map { LatLng(degrees: $0.0, $0.1) } }
    static let sf = ring([(37.70, -122.52), (37.70, -122.35), (37.83, -122.35), (37.83, -122.52)])
    static let sfHole = ring([(37.75, -122.45), (37.75, -122.40), (37.79, -122.40), (37.79, -122.45)])

    @Test("point in polygon: inside, outside, in a hole, across the antimeridian")
    func contains() {
        let p = GeoPolygon(outer: Self.sf, holes: [Self.sfHole])
        #expect(p.contains(LatLng(degrees: 37.72, -122.5)))
        #expect(!p.contains(LatLng(degrees: 37.77, -122.42)))
        #expect(!p.contains(LatLng(degrees: 37.9, -122.42)))
        let tm = GeoPolygon(outer: Self.ring([(-17, 178.5), (-17, -179), (-15.5, -179), (-15.5, 178.5)]))
        #expect(tm.boundingBox.isTransmeridian)
        #expect(tm.contains(LatLng(degrees: -16, 179.9)))
        #expect(tm.contains(LatLng(degrees: -16, -179.5)))
        #expect(!tm.contains(LatLng(degrees: -16, 0)))
    }

    // Expected counts and extremes from the h3 4.5.0 Python bindings (polygon_to_cells).
    @Test("polygonToCells matches H3 4.5.0", arguments: [
        (6, 5, "862830827ffffff", "86283095fffffff"),
        (7, 40, "872830801ffffff", "87283095effffff"),
        (9, 1976, "89283080023ffff", "89283095edbffff"),
    ])
    func polygonToCells(res: Int, count: Int, first: String, last: String) throws {
        let cells = try H3.polygonToCells(GeoPolygon(outer: Self.sf), resolution: res)
        #expect(cells.count == count)
        #expect(cells.first?.description == first)
        #expect(cells.last?.description == last)
    }

    @Test("polygonToCells with a hole and across the antimeridian matches H3 4.5.0")
    func polygonToCellsHoleAndAntimeridian() throws {
        let holed = try H3.polygonToCells(GeoPolygon(outer: Self.sf, holes: [Self.sfHole]), resolution: 9)
        #expect(holed.count == 1796)
        let tm = try H3.polygonToCells(
            GeoPolygon(outer: Self.ring([(-17, 178.5), (-17, -179), (-15.5, -179), (-15.5, 178.5)])), resolution: 6)
        #expect(tm.count == 1356)
        #expect(tm.first?.description == "869b4321fffffff")
        #expect(tm.last?.description == "869b5ddb7ffffff")
    }

    @Test("polygonToCells equals the brute-force centre test over a covering parent's children")
    func bruteForce() throws {
        let poly = GeoPolygon(outer: Self.ring([(37.76, -122.44), (37.765, -122.43), (37.772, -122.436), (37.768, -122.445)]))
        let fill = try H3.polygonToCells(poly, resolution: 11)
        let parent = try H3.latLngToCell(LatLng(degrees: 37.766, -122.438), resolution: 6)
        var brute: [H3Cell] = []
        var disk: [H3Cell] = []
        try H3.gridDisk(parent, k: 1, into: &disk)
        for p in disk {
            for c in try H3.cellToChildren(p, resolution: 11) where poly.contains(try H3.cellToLatLng(c)) { brute.append(c) }
        }
        #expect(fill == brute.sorted())
        #expect(!fill.isEmpty)
    }
}

import HexGeo
import Testing
import TestSupport
import Vocabulary

private func p(_ lat: Double, _ lng: Double) -> LatLng { LatLng(degrees: lat, lng) }

@Suite struct FenceShapeTests {
    @Test("a circle holds the points within its radius by great-circle distance, and catches segments through it")
    func circle() {
        let c = FenceShape.circle(center: p(60.17, 24.94), radiusMeters: 200)
        #expect(c.contains(p(60.17, 24.94)))
        #expect(c.contains(Geodesy.destination(from: p(60.17, 24.94), bearing: 1.0, distanceMeters: 199)))
        #expect(!c.contains(Geodesy.destination(from: p(60.17, 24.94), bearing: 1.0, distanceMeters: 201)))
        // West to east through the centre: both ends 1 km out.
        let west = Geodesy.destination(from: p(60.17, 24.94), bearing: -Double.pi / 2, distanceMeters: 1_000)
        let east = Geodesy.destination(from: p(60.17, 24.94), bearing: Double.pi / 2, distanceMeters: 1_000)
        #expect(c.segmentIntersects(west, east))
        // The same line 300 m north misses; 150 m north passes through.
        let north300 = { (q: LatLng) in Geodesy.destination(from: q, bearing: 0, distanceMeters: 300) }
        let north150 = { (q: LatLng) in Geodesy.destination(from: q, bearing: 0, distanceMeters: 150) }
        #expect(!c.segmentIntersects(north300(west), north300(east)))
        #expect(c.segmentIntersects(north150(west), north150(east)))
    }

    @Test("a polygon's later rings are holes: points and segments inside a hole are not in the area")
    func polygonWithHole() {
        let outer = [p(0, 0), p(0, 10), p(10, 10), p(10, 0)]
        let hole = [p(3, 3), p(3, 7), p(7, 7), p(7, 3)]
        let shape = FenceShape.polygon(GeoPolygon(outer: outer, holes: [hole]))
        #expect(shape.contains(p(1, 1)))
        #expect(!shape.contains(p(5, 5)))
        #expect(!shape.contains(p(11, 5)))
        #expect(!shape.segmentIntersects(p(4, 4), p(6, 6)), "inside the hole throughout")
        #expect(shape.segmentIntersects(p(5, 5), p(5, 12)), "from the hole out through the ring")
        #expect(shape.segmentIntersects(p(-1, 5), p(11, 5)), "across the whole polygon")
        #expect(!shape.segmentIntersects(p(-1, -1), p(-1, 11)), "alongside, outside")
        #expect(shape.distanceLowerBoundMeters(p(5, 5)) > 0)
        #expect(shape.distanceLowerBoundMeters(p(1, 1)) == 0)
    }

    @Test("a polygon across the antimeridian holds points on both sides and catches segments across 180°")
    func antimeridian() {
        let shape = FenceShape.polygon(GeoPolygon(outer: [p(-1, 179), p(-1, -179), p(1, -179), p(1, 179)]))
        #expect(shape.contains(p(0, 179.5)))
        #expect(shape.contains(p(0, -179.5)))
        #expect(!shape.contains(p(0, 0)))
        #expect(!shape.contains(p(0, 178.5)))
        #expect(shape.segmentIntersects(p(0, 178.5), p(0, -178.5)), "the short way, through the polygon")
        #expect(!shape.segmentIntersects(p(2, 178.5), p(2, -178.5)), "north of it")
        let centre = shape.center
        #expect(abs(abs(centre.lngDegrees) - 180) < 1e-6 && abs(centre.latDegrees) < 1e-9)
    }

    @Test("a cell set holds exactly the points whose cell is listed, and catches a segment through a cell")
    func cellSet() throws {
        let here = p(43.73, 7.42)
        let cell = try H3.latLngToCell(here, resolution: 9)
        let set = try FenceCellSet([cell])
        let shape = FenceShape.cells(set)
        var rng = SeededRandom(seed: 19)
        var checked = 0
        for _ in 0..<500 {
            let q = p(43.73 + Double.random(in: -0.004...0.004, using: &rng), 7.42 + Double.random(in: -0.004...0.004, using: &rng))
            #expect(shape.contains(q) == (try H3.latLngToCell(q, resolution: 9) == cell))
            checked += 1
        }
        #expect(checked == 500)
        let centre = try H3.cellToLatLng(cell)
        let a = Geodesy.destination(from: centre, bearing: 0.3, distanceMeters: 800)
        let b = Geodesy.destination(from: centre, bearing: 0.3 + Double.pi, distanceMeters: 800)
        #expect(!shape.contains(a) && !shape.contains(b))
        #expect(shape.segmentIntersects(a, b))
        #expect(throws: HexGeoError.self) { try FenceCellSet([H3Cell(rawValue: 0x1234)]) }
    }

    @Test("a grid cover lists the square of every point within the margin of the shape (seeded)")
    func gridCoverIsConservative() throws {
        let grid = FenceGrid()
        var rng = SeededRandom(seed: 7)
        let shapes: [FenceShape] = [
            .circle(center: p(60.17, 24.94), radiusMeters: 300),
            .polygon(GeoPolygon(outer: [p(42.5, 1.5), p(42.52, 1.56), p(42.48, 1.6)], holes: [])),
            .polygon(GeoPolygon(outer: [p(-0.01, 179.99), p(-0.01, -179.99), p(0.01, -179.99), p(0.01, 179.99)])),
            .cells(try FenceCellSet([try H3.latLngToCell(p(43.73, 7.42), resolution: 8)])),
        ]
        for shape in shapes {
            let cover = Set(try #require(grid.cover(shape, marginMeters: 1_000, maxSquares: 100_000)))
            let c = shape.center
            var misses = 0
            for _ in 0..<2_000 {
                let q = Geodesy.destination(from: c, bearing: Double.random(in: 0..<(2 * Double.pi), using: &rng),
                                            distanceMeters: Double.random(in: 0...5_000, using: &rng))
                if shape.distanceLowerBoundMeters(q) <= 1_000 && !cover.contains(grid.key(q)) { misses += 1 }
            }
            #expect(misses == 0)
        }
        #expect(grid.cover(.circle(center: p(0, 0), radiusMeters: 200_000), marginMeters: 1_000, maxSquares: 100) == nil)
    }
}

import HexGeo
import Testing
import TestSupport
@testable import FleetIndex
import Vocabulary

@Suite struct H3IndexTests {
    let now: Int64 = 1_700_000_000_000

    func fleet(_ region: FleetRegion, count: Int, seed: UInt64, resolution: Int = 9) -> DriverTable {
        fleetAndReference(region, count: count, seed: seed, resolution: resolution).table
    }

    /// A random fleet, and the same fixes for `NearestReference`.
    func fleetAndReference(_ region: FleetRegion, count: Int, seed: UInt64, resolution: Int = 9)
        -> (table: DriverTable, reference: NearestReference) {
        var rng = SeededRandom(seed: seed)
        let table = DriverTable(scheme: H3CellScheme(resolution: resolution), staleAfterMs: 60_000)
        var reference = NearestReference()
        for i in 0..<count {
            let (la, lo) = region.randomPoint(&rng)
            let status = DriverStatus(rawValue: UInt8.random(in: 0...4, using: &rng))!
            let s = DriverState(id: DriverID(UInt64(i + 1)), latE7: la, lngE7: lo,
                                timestampMs: now - Int64.random(in: 0...90_000, using: &rng), status: status)
            table.upsert(s)
            reference.insert(s)
        }
        return (table, reference)
    }

    @Test("the res-2 radius bound covers every sampled cell at finer resolutions", arguments: [5, 7, 9, 11])
    func radiusBound(resolution: Int) throws {
        var rng = SeededRandom(seed: UInt64(resolution))
        let scheme = H3CellScheme(resolution: resolution)
        for _ in 0..<500 {
            let p = LatLng(degrees: Double.random(in: -90...90, using: &rng), Double.random(in: -180...180, using: &rng))
            let cell = try H3.latLngToCell(p, resolution: resolution)
            let center = try H3.cellToLatLng(cell)
            for v in try H3.cellToBoundary(cell) {
                #expect(Geodesy.distanceMeters(center, v) <= scheme.maxCellRadiusMeters)
            }
        }
    }

    @Test("H3-keyed nearest-k equals plain haversine over the inserted fixes, poles and antimeridian included",
          arguments: regions)
    func nearestMatchesReference(region: FleetRegion) {
        let seed: UInt64 = 0x4833 ^ UInt64(region.name.utf8.count)
        let (table, reference) = fleetAndReference(region, count: 3_000, seed: seed, resolution: region.spanDegrees > 10 ? 3 : 8)
        table.checkInvariants()
        var rng = SeededRandom(seed: seed + 1)
        var fromCells = 0, pastBudget = 0
        for q in 0..<120 {
            let (la, lo) = region.randomPoint(&rng)
            let p = LatLng(degrees: Double(la) * 1e-7, Double(lo) * 1e-7)
            let k = [1, 10, 25][q % 3]
            let radius = [Double.infinity, 800, 20_000][(q / 3) % 3]
            let got = table.nearest(to: p, k: k, maxRadiusMeters: radius, statuses: StatusFilter(.available), nowMs: now)
            switch table.lastSearch.path {
            case .cells: if !got.isEmpty { fromCells += 1 }
            case .scanPastCellBudget: pastBudget += 1
            case .scan: Issue.record("query \(q): nearest ran the plain scan")
            }
            let want = reference.ranked(from: p, radiusMeters: radius, statuses: StatusFilter(.available), nowMs: now,
                                        staleAfterMs: table.staleAfterMs)
            NearestReference.check(got, against: want, k: k, "seed \(seed) query \(q) k \(k) radius \(radius) \(table.lastSearch)")
        }
        print("H3IndexTests \(region): \(fromCells) answers from cells, \(pastBudget) past the cell budget")
        #expect(fromCells >= 10, "\(region): only \(fromCells) non-empty answers came from the cells")
        // The world-wide fleet at resolution 3 is sparse around some queries: those go past the cell budget.
        if region.spanDegrees > 10 { #expect(pastBudget >= 10, "\(region): only \(pastBudget) queries went past the cell budget") }
    }

    @Test("cell queries at coarser, equal and finer resolutions match H3 membership by brute force")
    func cellsQuery() throws {
        let table = fleet(regions[0], count: 4_000, seed: 11)
        let center = LatLng(degrees: 43.73, 7.42)
        for res in [6, 7, 8, 9, 10, 12] {
            let cell = try H3.latLngToCell(center, resolution: res)
            var disk: [H3Cell] = []
            try H3.gridDisk(cell, k: 1, into: &disk)
            let got = try table.drivers(inCells: disk, statuses: .all, nowMs: now).map(\.id)
            let diskSet = Set(disk)
            let want = table.allStates().filter { s in
                s.timestampMs >= now - table.staleAfterMs
                    && diskSet.contains(try! H3.latLngToCell(s.position, resolution: res))
            }.map(\.id).sorted()
            #expect(got.count == want.count && got == want,
                    "resolution \(res): \(got.count) vs \(want.count); missing \(Set(want).subtracting(got).prefix(5))")
            if res <= 9 { #expect(!got.isEmpty, "resolution \(res) should hold drivers") }
        }
        #expect(throws: HexGeoError.self) { try table.drivers(inCells: [H3Cell(rawValue: 42)], nowMs: now) }
    }

    @Test("polygon queries match point-in-polygon by brute force, holes included")
    func polygonQuery() {
        let table = fleet(regions[0], count: 4_000, seed: 12)
        let outer = [(43.70, 7.38), (43.70, 7.46), (43.76, 7.46), (43.76, 7.38)].map { LatLng(degrees: $0.0, $0.1) }
        let hole = [(43.72, 7.40), (43.72, 7.43), (43.74, 7.43), (43.74, 7.40)].map { LatLng(degrees: $0.0, $0.1) }
        let polygon = GeoPolygon(outer: outer, holes: [hole])
        let got = table.drivers(in: polygon, statuses: StatusFilter(.available), nowMs: now).map(\.id)
        let want = table.allStates().filter {
            $0.status == .available && $0.timestampMs >= now - table.staleAfterMs && polygon.contains($0.position)
        }.map(\.id).sorted()
        #expect(!want.isEmpty)
        #expect(got == want)
    }
}

@Suite struct H3ShortcutTests {
    @Test("small moves keep every driver bucketed in its true H3 cell, near pentagons and poles too", arguments: [5, 7, 9, 12])
    func smallMoves(resolution: Int) throws {
        let seed = UInt64(resolution) * 31
        var rng = SeededRandom(seed: seed)
        let scheme = H3CellScheme(resolution: resolution)
        let table = DriverTable(scheme: scheme)
        // Start points: a city, and the centres of two pentagons at this resolution.
        var starts = [LatLng(degrees: 43.73, 7.42), LatLng(degrees: 85.2, 30), LatLng(degrees: -89.3, 100)]
        for base in [4, 97] {
            let res0 = H3Cell(rawValue: 0x0800_0000_0000_0000 | (UInt64(base) << 45) | 0x0000_1FFF_FFFF_FFFF)
            starts.append(try H3.cellToLatLng(try H3.cellToCenterChild(res0, resolution: resolution)))
        }
        var positions: [LatLng] = []
        for i in 0..<600 { positions.append(starts[i % starts.count]) }
        // Steps up to a third of a cell's radius: most moves stay inside, many end near an edge or across it.
        let step = scheme.maxCellRadiusMeters * 0.3
        for round in 1...40 {
            for i in positions.indices {
                positions[i] = Geodesy.destination(from: positions[i], bearing: Double.random(in: 0..<(2 * .pi), using: &rng),
                                                   distanceMeters: Double.random(in: 0...step, using: &rng))
                table.upsert(DriverState(id: DriverID(UInt64(i)), latE7: Int32((positions[i].latDegrees * 1e7).rounded()),
                                         lngE7: Int32((positions[i].lngDegrees * 1e7).rounded()), timestampMs: Int64(round),
                                         status: .available))
            }
            table.checkInvariants()   // includes cellKey == latLngToCell for every row
        }
        #expect(table.count == 600, "seed \(seed)")
    }
}

@Suite struct CellInnerRadiusTests {
    /// Every point within a cell's inner radius of its centre must map to that cell: sampled on the circle of
    /// exactly that radius (the worst case) and inside it, for random cells, pentagons and near-pole cells.
    @Test("points within a cell's inner radius map to the cell (H3)", arguments: [4, 7, 9, 12, 15])
    func h3InnerRadius(resolution: Int) throws {
        var rng = SeededRandom(seed: 77 &+ UInt64(resolution))
        let scheme = H3CellScheme(resolution: resolution)
        var cells: [H3Cell] = []
        for _ in 0..<150 {
            let p = LatLng(degrees: Double.random(in: -89.9...89.9, using: &rng), Double.random(in: -180..<180, using: &rng))
            cells.append(try H3.latLngToCell(p, resolution: resolution))
        }
        for base in [4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117] {   // the twelve pentagons
            let res0 = H3Cell(rawValue: 0x0800_0000_0000_0000 | (UInt64(base) << 45) | 0x0000_1FFF_FFFF_FFFF)
            cells.append(try H3.cellToCenterChild(res0, resolution: resolution))
        }
        var checked = 0
        for cell in cells {
            let inner = scheme.innerRadiusMeters(of: cell.rawValue)
            #expect(inner >= 0 && inner < scheme.maxCellRadiusMeters)
            guard inner > 0 else { continue }
            let centre = try H3.cellToLatLng(cell)
            for k in 0..<24 {
                let distance = k < 12 ? inner : Double.random(in: 0...inner, using: &rng)
                let bearing = k < 12 ? Double(k) * .pi / 6 + 0.01 : Double.random(in: 0..<(2 * .pi), using: &rng)
                let p = Geodesy.destination(from: centre, bearing: bearing, distanceMeters: distance)
                #expect(try H3.latLngToCell(p, resolution: resolution) == cell, "cell \(cell) bearing \(bearing) d \(distance)")
                checked += 1
            }
        }
        #expect(checked > 100 * 24)
    }

    @Test("the inner radius is most of a hexagon's (not a loose bound)")
    func h3InnerRadiusIsTight() throws {
        let scheme = H3CellScheme(resolution: 9)
        let cell = try H3.latLngToCell(LatLng(degrees: 43.73, 7.42), resolution: 9)
        let centre = try H3.cellToLatLng(cell)
        let circumradius = try H3.cellToBoundary(cell).map { Geodesy.distanceMeters(centre, $0) }.max() ?? 0
        // A regular hexagon's inradius is √3/2 of its circumradius.
        #expect(scheme.innerRadiusMeters(of: cell.rawValue) > 0.85 * circumradius * 3.0.squareRoot() / 2)
    }

    @Test("points within a grid cell's inner radius map to the cell; polar rows take no shortcut")
    func gridInnerRadius() {
        var rng = SeededRandom(seed: 5)
        let scheme = GridCellScheme(stepDegrees: 0.01)
        for _ in 0..<300 {
            let p = LatLng(degrees: Double.random(in: -89.99...89.99, using: &rng), Double.random(in: -180..<180, using: &rng))
            let cell = scheme.cell(of: p)
            let inner = scheme.innerRadiusMeters(of: cell)
            let centre = scheme.center(of: cell)
            for k in 0..<8 {
                let q = Geodesy.destination(from: centre, bearing: Double(k) * .pi / 4 + 0.2, distanceMeters: inner)
                #expect(scheme.cell(of: q) == cell)
            }
        }
        #expect(scheme.innerRadiusMeters(of: scheme.cell(of: LatLng(degrees: 89.999, 10))) == 0)
    }
}

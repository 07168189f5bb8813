import Foundation
import Testing
@testable import HexGeo
import Vocabulary

/// Seeded property tests: each prints its seed; rerun with HEXGEO_SEED=<seed> to replay.
@Suite struct H3PropertyTests {
    @Test("round trip: latLngToCell(cellToLatLng(c)) == c, and every cell is valid")
    func roundTrip() throws {
        let seed = SeededGenerator.seed()
        print("H3PropertyTests.roundTrip seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<3000 {
            let res = Int.random(in: 0...15, using: &rng)
            let c = try H3.latLngToCell(rng.point(), resolution: res)
            #expect(H3.isValidCell(c), "seed \(seed): \(c)")
            #expect(H3.getResolution(c) == res)
            let back = try H3.latLngToCell(try H3.cellToLatLng(c), resolution: res)
            #expect(back == c, "seed \(seed): \(c) → \(back)")
        }
    }

    @Test("parent of every child is the parent, and children count 7ⁿ (pentagons 1 + 5(7ⁿ−1)/6)")
    func parentChild() throws {
        let seed = SeededGenerator.seed()
        print("H3PropertyTests.parentChild seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        var cells: [H3Cell] = []
        for _ in 0..<300 {
            cells.append(try H3.latLngToCell(rng.point(), resolution: Int.random(in: 0...12, using: &rng)))
        }
        for r in 0...3 { cells.append(try H3.cellToCenterChild(H3Cell(rawValue: 0x8009fffffffffff), resolution: r)) }
        for c in cells {
            let n = Int.random(in: 0...min(3, 15 - H3.getResolution(c)), using: &rng)
            let childRes = H3.getResolution(c) + n
            let children = try H3.cellToChildren(c, resolution: childRes)
            let seven = Int(pow(7.0, Double(n)))
            #expect(children.count == (H3.isPentagon(c) ? 1 + 5 * (seven - 1) / 6 : seven), "seed \(seed): \(c)")
            #expect(Set(children).count == children.count)
            for child in children {
                #expect(H3.isValidCell(child))
                #expect(try H3.cellToParent(child, resolution: H3.getResolution(c)) == c, "seed \(seed): \(child)")
            }
        }
    }

    @Test("gridDisk has 3k(k+1)+1 distinct cells away from pentagons, holds the origin, and distances are ≤ k")
    func diskSizes() throws {
        let seed = SeededGenerator.seed()
        print("H3PropertyTests.diskSizes seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        var disk: [H3Cell] = []
        for _ in 0..<400 {
            let c = try H3.latLngToCell(rng.point(), resolution: Int.random(in: 2...15, using: &rng))
            let k = Int.random(in: 0...4, using: &rng)
            disk.removeAll(keepingCapacity: true)
            try H3.gridDisk(c, k: k, into: &disk)
            #expect(disk.contains(c))
            #expect(Set(disk).count == disk.count, "seed \(seed): duplicates around \(c)")
            var wide: [H3Cell] = []
            try H3.gridDisk(c, k: k + 2, into: &wide)
            if !wide.contains(where: H3.isPentagon) {
                #expect(disk.count == H3.maxGridDiskSize(k: k), "seed \(seed): \(c) k \(k)")
                for d in disk { #expect(try H3.gridDistance(c, d) <= k, "seed \(seed): \(c) → \(d)") }
            }
        }
    }

    @Test("pentagon disks: 12 pentagons per resolution, k=1 disk of 6, k=2 of 16")
    func pentagonDisks() throws {
        for res in 0...15 {
            var pentagons: [H3Cell] = []
            for bc in 0..<122 {
                let base = H3Cell(rawValue: (1 << 59) | (UInt64(bc) << 45) | ((1 << 45) - 1))
                guard H3.isPentagon(base) else { continue }
                pentagons.append(try H3.cellToCenterChild(base, resolution: res))
            }
            #expect(pentagons.count == 12)
            for p in pentagons {
                #expect(H3.isPentagon(p) && H3.isValidCell(p))
                var disk: [H3Cell] = []
                try H3.gridDisk(p, k: 1, into: &disk)
                #expect(disk.count == 6, "\(p)")
                disk.removeAll()
                try H3.gridDisk(p, k: 2, into: &disk)
                #expect(disk.count == 16, "\(p) res \(res)")
            }
        }
    }

    @Test("boundaries have 6 (hexagon) or 5 (pentagon) vertices, plus distortion vertices only at odd resolutions")
    func boundaryCounts() throws {
        let seed = SeededGenerator.seed()
        print("H3PropertyTests.boundaryCounts seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<2000 {
            let res = Int.random(in: 0...15, using: &rng)
            let c = try H3.latLngToCell(rng.point(), resolution: res)
            let b = try H3.cellToBoundary(c)
            let base = H3.isPentagon(c) ? 5 : 6
            if res % 2 == 0 {
                #expect(b.count == base, "seed \(seed): \(c)")
            } else {
                #expect(b.count >= base && b.count <= (H3.isPentagon(c) ? 10 : 9), "seed \(seed): \(c)")
            }
        }
        // Class III pentagons always cross icosahedron edges: 5 + 5 vertices.
        #expect(try H3.cellToBoundary(H3Cell(string: "81083ffffffffff")!).count == 10)
    }

    @Test("areas: the 122 base cells cover the sphere, and known cells match H3 4.5.0")
    func areas() throws {
        var total = 0.0
        for bc in 0..<122 {
            total += try H3.cellAreaM2(H3Cell(rawValue: (1 << 59) | (UInt64(bc) << 45) | ((1 << 45) - 1)))
        }
        let r = 6_371_007.180918475
        #expect(abs(total - 4 * Double.pi * r * r) / total < 1e-9)
        // Values from the h3 4.5.0 Python bindings (cell_area, m^2).
        #expect(abs(try H3.cellAreaM2(H3Cell(string: "89283082803ffff")!) - 109402.47351445461) < 1e-6)
        #expect(abs(try H3.cellAreaM2(H3Cell(string: "8009fffffffffff")!) - 2562182162955.504) < 1e-2)
    }

    @Test("invalid cells are refused by every typed entry point")
    func invalidCells() {
        for raw: UInt64 in [0, .max, 0x8009fffffffffff | (1 << 63), 0x80f5fffffffffff, 0x8109fffffffffff] {
            let c = H3Cell(rawValue: raw)
            #expect(!H3.isValidCell(c))
            #expect(throws: HexGeoError.cellInvalid) { try H3.cellToLatLng(c) }
            #expect(throws: HexGeoError.cellInvalid) { try H3.cellToBoundary(c) }
            var out: [H3Cell] = []
            #expect(throws: HexGeoError.cellInvalid) { try H3.gridDisk(c, k: 1, into: &out) }
        }
        #expect(throws: HexGeoError.resDomain) { try H3.latLngToCell(LatLng(lat: 0, lng: 0), resolution: 16) }
        #expect(throws: HexGeoError.latLngDomain) { try H3.latLngToCell(LatLng(lat: .nan, lng: 0), resolution: 1) }
        #expect(throws: HexGeoError.memoryBounds) { try H3.cellToChildren(H3Cell(rawValue: 0x8009fffffffffff), resolution: 15) }
        #expect(throws: HexGeoError.resMismatch) { try H3.cellToParent(H3Cell(rawValue: 0x8009fffffffffff), resolution: 1) }
        #expect(H3.maxGridDiskSize(k: Int.max) == 569_707_381_193_162)
        #expect(H3.maxGridDiskSize(k: -1) == 0)
    }

    @Test("H3Cell text form round-trips and rejects non-hex")
    func cellText() {
        #expect(H3Cell(string: "89283082803ffff")?.description == "89283082803ffff")
        #expect(H3Cell(string: "89283082803FFFF")?.rawValue == 0x89283082803ffff)
        #expect(H3Cell(string: "") == nil)
        #expect(H3Cell(string: "0x1") == nil)
        #expect(H3Cell(string: "12345678901234567") == nil)
    }
}

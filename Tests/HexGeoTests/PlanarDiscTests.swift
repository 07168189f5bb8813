@testable import HexGeo
import Testing
import Vocabulary

/// The planar shortcuts of circle and small cell-set fences must give the great circle's and H3's answers exactly.
@Suite struct PlanarDiscTests {
    @Test("a planar disc answers as the great-circle distance does, at the edge, across latitudes and the antimeridian",
          arguments: [0.0, 48.8, 60.17, 80.0, 89.3, -70.0])
    func discAgreesWithGreatCircle(latitude: Double) {
        var rng = SplitMix64(seed: UInt64(bitPattern: Int64(latitude * 1_000)))
        var inside = 0, outside = 0
        for _ in 0..<4_000 {
            let lng = Bool.random(using: &rng) ? 179.9995 : Double.random(in: -180..<180, using: &rng)
            let centre = LatLng(degrees: latitude, lng)
            let radii: [Double] = [1, 40, 200, 5_000, 50_000, 200_000]
            let radius = radii.randomElement(using: &rng) ?? 40
            let disc = PlanarDisc(center: centre, radiusMeters: radius)
            // Points within ±0.2 % of the radius, and anywhere out to three radii.
            let distance = Bool.random(using: &rng) ? radius * Double.random(in: 0.998...1.002, using: &rng)
                                                    : radius * Double.random(in: 0...3, using: &rng)
            let p = Geodesy.destination(from: centre, bearing: Double.random(in: -Double.pi...Double.pi, using: &rng),
                                        distanceMeters: distance)
            let expected = Geodesy.distanceMeters(centre, p) <= radius
            #expect(disc.contains(p) == expected, "\(centre) r=\(radius) \(p)")
            if expected { inside += 1 } else { outside += 1 }
        }
        #expect(inside > 500 && outside > 500)
    }

    @Test("a small cell set's disc shortcut answers as H3 does, near and across its cells' edges")
    func cellSetAgreesWithH3() throws {
        var rng = SplitMix64(seed: 19)
        for (lat, lng, resolution) in [(48.85, 2.35, 9), (60.17, 24.94, 10), (-33.9, 151.2, 7), (0.1, 179.99, 9), (84.0, -40.0, 8)] {
            let origin = try H3.latLngToCell(LatLng(degrees: lat, lng), resolution: resolution)
            var disk: [H3Cell] = []
            try H3.gridDisk(origin, k: 1, into: &disk)
            let set = try FenceCellSet(Array(disk.prefix(5)))   // an irregular set: some neighbours missing
            let centre = try H3.cellToLatLng(origin)
            let reach = set.centres.map(\.1).max() ?? 100
            var inside = 0
            for _ in 0..<3_000 {
                let p = Geodesy.destination(from: centre, bearing: Double.random(in: -Double.pi...Double.pi, using: &rng),
                                            distanceMeters: Double.random(in: 0...(reach * 5), using: &rng))
                let expected = set.containsByH3(p)
                #expect(set.contains(p) == expected, "\(p)")
                if expected { inside += 1 }
            }
            #expect(inside > 100)
        }
    }
}

@testable import Engine
import FleetIndex
import HexGeo
import JSON
import Testing
import Vocabulary

/// Random fences over a 6 × 6 km patch of Helsinki, small and large, so that some squares lie wholly inside some.
private func randomFences(_ n: Int, seed: UInt64, filtered: (Int) -> Bool = { _ in false }) throws -> [String] {
    var rng = SplitMix64(seed: seed)
    func uniform(_ r: ClosedRange<Double>) -> Double { Double.random(in: r, using: &rng) }
    var bodies: [String] = []
    for i in 0..<n {
        let lat = uniform(60.15...60.20), lng = uniform(24.90...25.00)
        let extra = filtered(i) ? #","statuses":["available"]"# : ""
        switch i % 3 {
        case 0:
            bodies.append(#"{"id":"c\#(i)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(uniform(20...1_500))},"detect":["enter","exit","cross","inside"]\#(extra)}"#)
        case 1:
            let h = uniform(0.0003...0.01), w = uniform(0.0005...0.02)
            let outer = "[[\(lat - h),\(lng - w)],[\(lat - h),\(lng + w)],[\(lat + h * 1.2),\(lng + w * 0.8)],[\(lat + h),\(lng - w)]]"
            let hole = "[[\(lat - h / 3),\(lng - w / 3)],[\(lat - h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng - w / 3)]]"
            bodies.append(#"{"id":"p\#(i)","shape":{"type":"polygon","rings":[\#(outer),\#(hole)]},"detect":["enter","exit","cross","inside"]\#(extra)}"#)
        default:
            let cell = try H3.latLngToCell(LatLng(degrees: lat, lng), resolution: [7, 8, 9, 10][i % 4])
            var ring: [H3Cell] = []
            try H3.gridDisk(cell, k: 1, into: &ring)
            bodies.append(#"{"id":"h\#(i)","shape":{"type":"cells","cells":[\#(ring.map { "\"\($0)\"" }.joined(separator: ","))]},"detect":["enter","exit","cross","inside"]\#(extra)}"#)
        }
    }
    return bodies
}

private func shapes(_ bodies: [String]) throws -> [(String, FenceShape)] {
    try bodies.compactMap { b in
        let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "" }
        if case .fixed(let shape) = d.area { return (d.id, shape) }
        return nil
    }
}

@Suite struct FenceSquareEntryTests {
    @Test("interior flags agree with point-in-shape: every point sampled in a square flagged interior is inside, and every point inside a fence is held by its square's entry")
    func interiorFlagsAgreeWithShapes() throws {
        let bodies = try randomFences(240, seed: 4_242)
        let index = FenceIndex()
        for b in bodies {
            let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "" }
            guard case .fixed(let shape) = d.area else { continue }
            try index.add(d, shape: shape)
        }
        var rng = SplitMix64(seed: 99)
        let side = index.grid.sideE7
        var interior = 0, sampled = 0
        for slot in index.entries.indices {
            guard let e = index.entries[slot], let shape = e.shape else { continue }
            for key in e.squares {
                let listed = index.squares.arena[index.squares.range(key)].filter { $0.slot == Int32(slot) }
                #expect(listed.count == 1, "fence \(e.definition.id) listed once for its square")
                guard let entry = listed.first, entry.isInterior else { continue }
                interior += 1
                let south = Int64(key >> 32) * side - 900_000_000, west = Int64(key & 0xFFFF_FFFF) * side - 1_800_000_000
                for k in 0..<12 {
                    // The corners first, then random points of the square.
                    let dLat = k < 4 ? Int64(k & 1) * (side - 1) : Int64.random(in: 0..<side, using: &rng)
                    let dLng = k < 4 ? Int64(k >> 1) * (side - 1) : Int64.random(in: 0..<side, using: &rng)
                    let p = LatLng(degrees: Double(south + dLat) / 1e7, Double(west + dLng) / 1e7)
                    #expect(index.grid.key(p) == key)
                    #expect(shape.contains(p), "\(e.definition.id): a point of an interior square is outside")
                    sampled += 1
                }
            }
        }
        #expect(interior > 50, "large fences have interior squares (\(interior))")
        // Every point inside a fence: its square lists the fence, and the entry's box holds the point.
        let all = try shapes(bodies)
        var inside = 0
        for _ in 0..<4_000 {
            let latE7 = Int32((Double.random(in: 60.14...60.21, using: &rng) * 1e7).rounded())
            let lngE7 = Int32((Double.random(in: 24.88...25.02, using: &rng) * 1e7).rounded())
            let p = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
            let listed = index.squares.arena[index.squares.range(index.grid.key(latE7: latE7, lngE7: lngE7))]
            var expected = Set<String>()
            for (slot, (id, shape)) in all.enumerated() where shape.contains(p) {
                inside += 1
                expected.insert(id)
                #expect(listed.contains { $0.slot == Int32(slot) && $0.holds(latE7: latE7, lngE7: lngE7) }, "\(id) misses \(p)")
            }
            // `containing` answers the same fences, nearest centre first.
            let found = index.containing(p, limit: 1_000, nowMs: 0)
            #expect(Set(found.compactMap { index.id($0.slot) }) == expected)
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.distanceMeters <= $1.distanceMeters })
        }
        #expect(inside > 1_000, "the points land in fences (\(inside))")
    }

    @Test("a rectangle a shape is said to hold wholly has its corners and random points inside; large shapes hold some")
    func holdsRectangleIsConservative() throws {
        let all = try shapes(try randomFences(90, seed: 77))
        var rng = SplitMix64(seed: 5)
        var held = 0
        for (id, shape) in all {
            for _ in 0..<60 {
                let south = Double.random(in: 60.14...60.21, using: &rng) * Double.pi / 180
                let west = Double.random(in: 24.88...25.02, using: &rng) * Double.pi / 180
                let height = Double.random(in: 1e-6...2e-4, using: &rng), width = Double.random(in: 1e-6...4e-4, using: &rng)
                guard shape.holdsRectangle(south: south, north: south + height, west: west, east: west + width) else { continue }
                held += 1
                for k in 0..<16 {
                    let fLat = k < 4 ? Double(k & 1) : Double.random(in: 0...1, using: &rng)
                    let fLng = k < 4 ? Double(k >> 1) : Double.random(in: 0...1, using: &rng)
                    #expect(shape.contains(LatLng(lat: south + fLat * height, lng: west + fLng * width)), "\(id)")
                }
            }
        }
        #expect(held > 30, "some rectangles are held (\(held))")
    }

    @Test("random walks fire exactly the transitions the shapes give when plain fences and filtered ones (decided by the general path) overlap")
    func walksWithPlainAndFilteredFences() throws {
        let bodies = try randomFences(120, seed: 31, filtered: { $0 % 4 == 1 })
        let index = FenceIndex()
        let detector = FenceDetector(index: index)
        for b in bodies {
            let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "" }
            guard case .fixed(let shape) = d.area else { continue }
            try index.add(d, shape: shape)
        }
        let all = try shapes(bodies)
        var rng = SplitMix64(seed: 8)
        var fired = 0
        for driver in UInt64(1)...10 {
            var at = LatLng(degrees: 60.175, 24.95)
            var state = all.map { $0.1.contains(at) }
            var previous = PreviousFix.none
            for step in 0..<200 {
                let reach = [0.00004, 0.002, 0.03][step % 3]
                let latE7 = Int32((min(60.21, max(60.14, at.latDegrees + Double.random(in: -reach...reach, using: &rng))) * 1e7).rounded())
                let lngE7 = Int32((min(25.02, max(24.88, at.lngDegrees + Double.random(in: -reach...reach, using: &rng) * 2)) * 1e7).rounded())
                let p = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
                let s = DriverState(id: DriverID(driver), latE7: latE7, lngE7: lngE7, timestampMs: Int64(step) * 1_000, status: .available)
                detector.process(s, previous: previous, nowMs: s.timestampMs)
                let got = detector.events.map { "\($0.fence):\($0.kind.name)" }.sorted()
                detector.events.removeAll()
                var expected: [String] = []
                for (k, (id, shape)) in all.enumerated() {
                    let nowIn = shape.contains(p)
                    if previous.isKnown {
                        if nowIn != state[k] { expected.append("\(id):\(nowIn ? "enter" : "exit")") }
                        else if !nowIn && shape.segmentIntersects(at, p) { expected.append("\(id):cross") }
                    }
                    if nowIn { expected.append("\(id):inside") }
                    state[k] = nowIn
                }
                #expect(got == expected.sorted(), "driver \(driver) step \(step)")
                fired += got.count
                previous = PreviousFix(latE7: latE7, lngE7: lngE7)
                at = p
            }
        }
        #expect(fired > 500, "the walks fire many events (\(fired))")
    }

    @Test("a circle entry's quick test agrees with the fence's exact test wherever it answers, near the edge too, at any latitude and radius; it is unsure only next to the edge")
    func quickDiscAgreesWithExactTest() throws {
        var rng = SplitMix64(seed: 1_919)
        var decided = 0, unsure = 0, checked = 0
        for n in 0..<60 {
            let lat = Double.random(in: -70...70, using: &rng), lng = Double.random(in: -179...179, using: &rng)
            let radius = [Double.random(in: 5...300, using: &rng), Double.random(in: 300...5_000, using: &rng),
                          Double.random(in: 5_000...10_000, using: &rng)][n % 3]
            let body = #"{"id":"c\#(n)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(radius)}}"#
            let index = FenceIndex()
            let d = try FenceDefinition.parse(try JSONReader.parse(body), nowMs: 0) { "" }
            guard case .fixed(let shape) = d.area, case .circle(let centre, _) = shape else { continue }
            try index.add(d, shape: shape)
            guard let slot = index.byID[d.id], let disc = index.hot[Int(slot)].disc else { continue }
            for _ in 0..<400 {
                // Half the points within a few centimetres of the edge, the rest anywhere near the circle.
                let bearing = Double.random(in: 0..<(2 * Double.pi), using: &rng)
                let distance = Bool.random(using: &rng) ? radius + Double.random(in: -0.05...0.05, using: &rng)
                                                       : Double.random(in: 0...(radius * 1.3), using: &rng)
                let p0 = Geodesy.destination(from: centre, bearing: bearing, distanceMeters: distance)
                let latE7 = Int32((p0.latDegrees * 1e7).rounded()), lngE7 = Int32((p0.lngDegrees * 1e7).rounded())
                let p = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
                let listed = index.squares.arena[index.squares.range(index.grid.key(latE7: latE7, lngE7: lngE7))]
                let exact = disc.contains(p)
                #expect(exact == shape.contains(p) || abs(Geodesy.distanceMeters(centre, p) - radius) < 1e-6)
                guard let e = listed.first(where: { $0.slot == slot && $0.holds(latE7: latE7, lngE7: lngE7) }) else {
                    #expect(!exact, "a point inside circle \(n) is held by its square's entry")
                    continue
                }
                checked += 1
                switch e.quickVerdict(latE7: latE7, lngE7: lngE7) {
                case .inside:
                    decided += 1
                    #expect(exact, "circle \(n) (r \(radius) m at \(lat), \(lng)): quick inside, exact outside at \(p)")
                case .outside:
                    decided += 1
                    #expect(!exact, "circle \(n) (r \(radius) m at \(lat), \(lng)): quick outside, exact inside at \(p)")
                case .unsure:
                    // Only the plane's band (its relative bound, at most about 1 % of the radius at these latitudes
                    // and radii) and the entry's 4 cm are left to the fence.
                    unsure += 1
                    #expect(abs(Geodesy.distanceMeters(centre, p) - radius) < 0.02 * radius + 0.1, "circle \(n): unsure far from the edge")
                }
                #expect(index.holds(e, latE7: latE7, lngE7: lngE7, p) == exact)
            }
        }
        #expect(checked > 10_000, "points checked (\(checked))")
        // Most of the points sampled lie within 5 cm of the edge, where unsure is the expected answer.
        #expect(decided > 5_000 && unsure > 5_000, "decided \(decided), unsure \(unsure)")
    }

    @Test("a polygon entry's quick test (one edge through the square, or none) agrees with point-in-polygon wherever it answers, next to the edges too")
    func quickHalfPlaneAgreesWithPolygon() throws {
        let bodies = try randomFences(150, seed: 2_020).enumerated().filter { $0.offset % 3 == 1 }.map(\.element)
        let index = FenceIndex()
        for b in bodies {
            let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "" }
            guard case .fixed(let shape) = d.area else { continue }
            try index.add(d, shape: shape)
        }
        var rng = SplitMix64(seed: 12)
        var decided = 0, halfPlanes = 0
        for slot in index.entries.indices {
            guard let fence = index.entries[slot], case .polygon(let poly)? = fence.shape else { continue }
            let vertices = ([poly.outer] + poly.holes).flatMap { ring in ring.indices.map { (ring[$0], ring[($0 + 1) % ring.count]) } }
            for key in fence.squares {
                guard let e = index.squares.arena[index.squares.range(key)].first(where: { $0.slot == Int32(slot) }) else { continue }
                if case .halfPlane = e.quick { halfPlanes += 1 }
                for k in 0..<24 {
                    var latE7 = Int32.random(in: e.minLat...e.maxLat, using: &rng)
                    var lngE7 = Int32.random(in: e.minLng...e.maxLng, using: &rng)
                    if k % 2 == 0 {
                        // A point a few centimetres from a random edge, kept when it falls in the entry's box.
                        let (a, b) = vertices[Int.random(in: 0..<vertices.count, using: &rng)]
                        let t = Double.random(in: 0...1, using: &rng), off = Double.random(in: -8...8, using: &rng)
                        let dLat = b.latDegrees - a.latDegrees, dLng = b.lngDegrees - a.lngDegrees
                        let length = (dLat * dLat + dLng * dLng).squareRoot() * 1e7
                        let lat = (a.latDegrees + t * dLat) * 1e7 - off * dLng * 1e7 / length
                        let lng = (a.lngDegrees + t * dLng) * 1e7 + off * dLat * 1e7 / length
                        guard e.holds(latE7: Int32(lat.rounded()), lngE7: Int32(lng.rounded())) else { continue }
                        (latE7, lngE7) = (Int32(lat.rounded()), Int32(lng.rounded()))
                    }
                    let p = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
                    guard index.grid.key(latE7: latE7, lngE7: lngE7) == key else { continue }
                    let exact = poly.contains(p)
                    switch e.quickVerdict(latE7: latE7, lngE7: lngE7) {
                    case .inside:
                        decided += 1
                        #expect(exact, "\(fence.definition.id): quick inside, polygon outside at \(latE7), \(lngE7)")
                    case .outside:
                        decided += 1
                        #expect(!exact, "\(fence.definition.id): quick outside, polygon inside at \(latE7), \(lngE7)")
                    case .unsure:
                        break
                    }
                    #expect(index.holds(e, latE7: latE7, lngE7: lngE7, p) == exact)
                }
            }
        }
        #expect(halfPlanes > 100, "squares with one edge through them (\(halfPlanes))")
        #expect(decided > 2_000, "points decided by the quick test (\(decided))")
    }
}

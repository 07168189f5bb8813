@testable import Engine
import FleetIndex
import HTTPServer
import HexGeo
import JSON
import Testing
import Vocabulary

/// A detector over fences given as JSON bodies, fed pings by hand.
private final class Harness {
    let index = FenceIndex()
    let detector: FenceDetector
    private var lastFix: [UInt64: PreviousFix] = [:]
    init(_ bodies: [String]) throws {
        detector = FenceDetector(index: index)
        for b in bodies {
            let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "generated" }
            guard case .fixed(let shape) = d.area else { continue }
            try index.add(d, shape: shape)
        }
    }

    /// Pings driver `id` at (lat, lng) degrees at `ts`; answers the events it caused as "fence:event".
    func ping(_ id: UInt64, _ lat: Double, _ lng: Double, ts: Int64, status: DriverStatus = .available,
              first: Bool = false) -> [String] {
        let s = DriverState(id: DriverID(id), latE7: Int32((lat * 1e7).rounded()), lngE7: Int32((lng * 1e7).rounded()),
                            timestampMs: ts, status: status)
        // What the table would answer: the driver's last fix, none for a driver it did not hold.
        let previous = first ? PreviousFix.none : (lastFix[id] ?? .none)
        lastFix[id] = PreviousFix(latE7: s.latE7, lngE7: s.lngE7)
        detector.process(s, previous: previous, nowMs: ts)
        defer { detector.events.removeAll() }
        return detector.events.map { "\($0.fence):\($0.kind.name)" }
    }
}

private let circle = #"{"id":"c","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":100},"detect":["enter","exit","cross"]}"#

@Suite struct FenceDetectorTests {
    @Test("enter and exit fire once each at the crossing pings; a first sighting inside is silent")
    func enterExit() throws {
        let h = try Harness([circle])
        #expect(h.ping(1, 60.17, 24.93, ts: 1_000, first: true) == [])          // ~550 m west: outside
        #expect(h.ping(1, 60.17, 24.9395, ts: 2_000) == ["c:enter"])             // ~28 m from the centre
        #expect(h.ping(1, 60.17, 24.94, ts: 3_000) == [])                       // inside, already entered
        #expect(h.ping(1, 60.17, 24.95, ts: 4_000) == ["c:exit"])
        #expect(h.ping(1, 60.17, 24.96, ts: 5_000) == [])
        #expect(h.ping(2, 60.17, 24.94, ts: 5_000, first: true) == [], "first sighting inside: no enter")
        #expect(h.ping(2, 60.17, 24.96, ts: 6_000) == ["c:exit"])
    }

    @Test("cross fires when a segment passes through the circle with no ping inside; not when it passes by")
    func cross() throws {
        let h = try Harness([circle])
        #expect(h.ping(1, 60.17, 24.93, ts: 1_000, first: true) == [])
        #expect(h.ping(1, 60.17, 24.95, ts: 2_000) == ["c:cross"])
        #expect(h.ping(1, 60.172, 24.93, ts: 3_000) == [])      // ~220 m north of the centre line, back west: misses
    }

    @Test("cross is exact for a long segment: a 20 km jump through the circle fires it, one beside it does not")
    func longCross() throws {
        let h = try Harness([circle])
        #expect(h.ping(1, 60.17, 24.76, ts: 1_000, first: true) == [])     // ~10 km west
        #expect(h.ping(1, 60.17, 25.12, ts: 2_000) == ["c:cross"])          // ~10 km east: through the centre
        #expect(h.ping(1, 60.175, 24.76, ts: 3_000) == [])                  // back west ~550 m north of it: misses
    }

    @Test("random walks among many small fences fire exactly the transitions the shapes give, for steps within a square, to a neighbouring square and across many")
    func randomWalksAgainstShapes() throws {
        var rng = SplitMix64(seed: 1_919)
        func uniform(_ r: ClosedRange<Double>) -> Double { Double.random(in: r, using: &rng) }
        // 150 fences in a 3 × 3 km patch of Helsinki: circles, rectangles with a hole, and cell sets.
        var bodies: [String] = []
        for i in 0..<150 {
            let lat = uniform(60.16...60.187), lng = uniform(24.92...24.974)
            switch i % 3 {
            case 0:
                bodies.append(#"{"id":"c\#(i)","shape":{"type":"circle","center":{"lat":\#(lat),"lng":\#(lng)},"radius_m":\#(uniform(20...250))},"detect":["enter","exit","cross"]}"#)
            case 1:
                let h = uniform(0.0003...0.002), w = uniform(0.0005...0.004)
                let outer = "[[\(lat - h),\(lng - w)],[\(lat - h),\(lng + w)],[\(lat + h),\(lng + w)],[\(lat + h),\(lng - w)]]"
                let hole = "[[\(lat - h / 3),\(lng - w / 3)],[\(lat - h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng + w / 3)],[\(lat + h / 3),\(lng - w / 3)]]"
                bodies.append(#"{"id":"p\#(i)","shape":{"type":"polygon","rings":[\#(outer),\#(hole)]},"detect":["enter","exit","cross"]}"#)
            default:
                let cell = try H3.latLngToCell(LatLng(degrees: lat, lng), resolution: 10)
                var ring: [H3Cell] = []
                try H3.gridDisk(cell, k: 1, into: &ring)
                bodies.append(#"{"id":"h\#(i)","shape":{"type":"cells","cells":[\#(ring.map { "\"\($0)\"" }.joined(separator: ","))]},"detect":["enter","exit","cross"]}"#)
            }
        }
        let h = try Harness(bodies)
        var shapes: [(String, FenceShape)] = []
        for b in bodies {
            let d = try FenceDefinition.parse(try JSONReader.parse(b), nowMs: 0) { "" }
            if case .fixed(let shape) = d.area { shapes.append((d.id, shape)) }
        }
        var fired = 0
        for driver in UInt64(1)...12 {
            let start = (lat: Int32((uniform(60.16...60.187) * 1e7).rounded()), lng: Int32((uniform(24.92...24.974) * 1e7).rounded()))
            var at = LatLng(degrees: Double(start.lat) / 1e7, Double(start.lng) / 1e7)
            var expectedState = shapes.map { $0.1.contains(at) }
            _ = h.ping(driver, at.latDegrees, at.lngDegrees, ts: 0, first: true)
            for step in 1...150 {
                // Steps of ~5 m (same square), ~100–300 m (often a neighbouring square) and up to ~3 km.
                let reach = [0.00005, 0.002, 0.02][step % 3]
                let next = LatLng(degrees: min(60.19, max(60.157, at.latDegrees + uniform(-reach...reach))),
                                  min(24.98, max(24.915, at.lngDegrees + uniform(-reach...reach) * 2)))
                let p = LatLng(degrees: Double(Int32((next.latDegrees * 1e7).rounded())) / 1e7, Double(Int32((next.lngDegrees * 1e7).rounded())) / 1e7)
                var expected: [String] = []
                for (k, (id, shape)) in shapes.enumerated() {
                    let nowIn = shape.contains(p)
                    if nowIn != expectedState[k] { expected.append("\(id):\(nowIn ? "enter" : "exit")") }
                    else if !nowIn && shape.segmentIntersects(at, p) { expected.append("\(id):cross") }
                    expectedState[k] = nowIn
                }
                let got = h.ping(driver, p.latDegrees, p.lngDegrees, ts: Int64(step) * 1_000)
                #expect(got.sorted() == expected.sorted(), "driver \(driver) step \(step)")
                fired += got.count
                at = p
            }
        }
        #expect(fired > 200, "the walks cross many fences (\(fired) events)")
    }

    @Test("the segment walk visits every square a dense sampling of the segment meets, across the antimeridian and through corners")
    func segmentWalkCoversSamples() {
        let grid = FenceGrid(sideE7: 25_000)
        var rng = SplitMix64(seed: 2_026)
        var cases: [(Int32, Int32, Int32, Int32)] = [
            (0, 0, 100_000, 100_000),                                   // through grid corners exactly
            (50_000, 0, -50_000, 0),                                    // along a column boundary
            (601_700_000, 1_799_990_000, 601_710_000, -1_799_980_000),  // east across the antimeridian
            (-12_500, -1_799_990_000, 12_500, 1_799_990_000),           // west across it
        ]
        for _ in 0..<300 {
            let lat = Int32.random(in: -800_000_000...800_000_000, using: &rng), lng = Int32.random(in: -1_800_000_000...1_800_000_000, using: &rng)
            let span = [2_000, 40_000, 400_000][Int.random(in: 0..<3, using: &rng)]
            let dLng = Int32.random(in: -Int32(span)...Int32(span), using: &rng)
            cases.append((lat, lng, lat + Int32.random(in: -Int32(span)...Int32(span), using: &rng),
                          Int32(clamping: (Int64(lng) + Int64(dLng) + 5_400_000_000) % 3_600_000_000 - 1_800_000_000)))
        }
        for (aLat, aLng, bLat, bLng) in cases {
            var walked = Set<UInt64>()
            FenceDetector.forEachSquare(alongLatE7: aLat, aLng, to: bLat, bLng, sideE7: grid.sideE7, columns: grid.columns) { walked.insert($0) }
            var sampled = Set<UInt64>()
            grid.forEachSquare(alongLatE7: aLat, aLng, to: bLat, bLng, maxSamples: 4_000) { sampled.insert($0) }
            #expect(sampled.isSubset(of: walked), "\(aLat),\(aLng) → \(bLat),\(bLng): missed \(sampled.subtracting(walked).count)")
            #expect(walked.contains(grid.key(latE7: aLat, lngE7: aLng)) && walked.contains(grid.key(latE7: bLat, lngE7: bLng)))
            // No square far from the segment: at most the squares a sampling misses at corners, a few.
            #expect(walked.count <= sampled.count * 2 + 4, "\(walked.count) walked, \(sampled.count) sampled")
        }
    }

    @Test("dwell: jitter across the edge fires nothing; staying inside (then outside) for dwell_s fires once")
    func dwell() throws {
        let h = try Harness([#"{"id":"d","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":100},"dwell_s":10}"#])
        #expect(h.ping(1, 60.17, 24.95, ts: 0, first: true) == [])
        var fired: [String] = []
        for i in 1...20 {   // in and out every second for 20 s
            fired += h.ping(1, 60.17, i % 2 == 0 ? 24.94 : 24.95, ts: Int64(i) * 1_000)
        }
        #expect(fired == [])
        for i in 21...40 { fired += h.ping(1, 60.17, 24.94, ts: Int64(i) * 1_000) }
        #expect(fired == ["d:enter"])
        fired = []
        for i in 41...60 { fired += h.ping(1, 60.17, 24.95, ts: Int64(i) * 1_000) }
        #expect(fired == ["d:exit"])
    }

    @Test("statuses and drivers filters: only the listed drivers in the listed statuses fire")
    func filters() throws {
        let h = try Harness([#"{"id":"f","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":100},"statuses":["available"],"drivers":[1,2]}"#])
        for id: UInt64 in 1...3 { _ = h.ping(id, 60.17, 24.95, ts: 0, first: true) }
        #expect(h.ping(1, 60.17, 24.94, ts: 1_000) == ["f:enter"])
        #expect(h.ping(2, 60.17, 24.94, ts: 1_000, status: .onTrip) == [])
        #expect(h.ping(3, 60.17, 24.94, ts: 1_000) == [])
    }

    @Test("inside and outside fire on every ping when asked for, for drivers anywhere")
    func insideOutside() throws {
        let h = try Harness([#"{"id":"io","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":100},"detect":["inside","outside"]}"#])
        #expect(h.ping(1, 10, 10, ts: 0, first: true) == ["io:outside"])
        #expect(h.ping(1, 60.17, 24.94, ts: 1_000) == ["io:inside"])
        #expect(h.ping(1, 60.17, 24.94, ts: 2_000) == ["io:inside"])
        #expect(h.ping(1, -10, -10, ts: 3_000) == ["io:outside"])
    }

    @Test("an expired fence fires nothing")
    func expired() throws {
        let h = try Harness([#"{"id":"e","shape":{"type":"circle","center":{"lat":60.17,"lng":24.94},"radius_m":100},"expires_at_ms":5000}"#])
        #expect(h.ping(1, 60.17, 24.95, ts: 1_000, first: true) == [])
        #expect(h.ping(1, 60.17, 24.94, ts: 2_000) == ["e:enter"])
        #expect(h.ping(1, 60.17, 24.95, ts: 6_000) == [])
    }

    @Test("bad fence bodies are refused with their codes", arguments: [
        (#"{"shape":{"type":"circle","center":{"lat":60,"lng":24},"radius_m":0}}"#, "invalid_radius"),
        (#"{"shape":{"type":"circle","center":{"lat":91,"lng":24},"radius_m":5}}"#, "invalid_shape"),
        (#"{"shape":{"type":"square"}}"#, "invalid_shape"),
        (#"{"shape":{"type":"polygon","rings":[[[0,0],[0,1]]]}}"#, "invalid_shape"),
        (#"{"shape":{"type":"cells","cells":["zz"]}}"#, "invalid_shape"),
        (#"{"id":"\#(String(repeating: "x", count: 65))","shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5}}"#, "invalid_fence_id"),
        (#"{"id":7,"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5}}"#, "invalid_fence_id"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"detect":["near"]}"#, "invalid_detect"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"dwell_s":-1}"#, "invalid_dwell"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"statuses":["asleep"]}"#, "invalid_statuses"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"drivers":[-1]}"#, "invalid_drivers"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"expires_at_ms":5}"#, "invalid_expires"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"meta":[1]}"#, "invalid_meta"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"meta":{"a":"\#(String(repeating: "y", count: 4100))"}}"#, "meta_too_large"),
        (#"{"shape":{"type":"circle","center":{"lat":0,"lng":0},"radius_m":5},"webhook":"https://x.example/h"}"#, "invalid_webhook"),
        (#"{"shape":{"type":"near_driver","driver":1,"radius_m":50},"detect":["cross"]}"#, "invalid_detect"),
    ])
    func badBodies(body: String, code: String) throws {
        do {
            _ = try FenceDefinition.parse(try JSONReader.parse(body), nowMs: 10_000) { "x" }
            Issue.record("accepted \(body.prefix(80))")
        } catch let error as APIError {
            #expect(error.code.name == code)
            #expect(error.code.status == 400)
        }
    }
}

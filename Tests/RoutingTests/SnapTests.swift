import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Snapping to road segments")
struct SnapTests {
    /// A point on the unit sphere, or a difference of two.
    struct Unit {
        var x, y, z: Double
        init(_ x: Double, _ y: Double, _ z: Double) { self.x = x; self.y = y; self.z = z }
        init(latDegrees: Double, lngDegrees: Double) {
            let la = latDegrees * Double.pi / 180, lo = lngDegrees * Double.pi / 180
            self.init(cos(la) * cos(lo), cos(la) * sin(lo), sin(la))
        }
        static func - (a: Unit, b: Unit) -> Unit { Unit(a.x - b.x, a.y - b.y, a.z - b.z) }
        func dot(_ o: Unit) -> Double { x * o.x + y * o.y + z * o.z }
        func cross(_ o: Unit) -> Unit { Unit(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x) }
        var norm: Double { dot(self).squareRoot() }
    }

    /// Distance in meters from `p` to the great-circle arc from `a` to `b`, worked out on the sphere, independently
    /// of `SnapIndex.project`: the foot of the perpendicular when it falls inside the arc, else the nearer end.
    ///
    /// Everything is computed from the small vectors a − p and b − p, never from a × b directly: for a 2 m segment
    /// a × b cancels to 3e-7 and its direction is off by ~1e-10 rad, which puts millimetres of error into p·(a × b);
    /// p·(a × b) = p·((a − p) × (b − p)) has no such cancellation.
    static func sphereDistanceMeters(_ p: Unit, _ a: Unit, _ b: Unit) -> Double {
        let pa = a - p, pb = b - p, ab = pb - pa
        let chord = min(pa.norm, pb.norm)
        let ends = 2 * asin(min(1, chord / 2)) * Geodesy.earthRadiusMeters
        let normal = a.cross(ab).norm   // |a × b|: the segment's length, as the sine of its angle
        guard normal > 1e-18 else { return ends }
        // The foot lies inside the arc when p is past a towards b and past b towards a (at the ends both sides agree).
        guard pa.dot(ab) < 0 && pb.dot(ab) > 0 else { return ends }
        let crossTrack = asin(min(1, abs(p.dot(pa.cross(pb))) / normal)) * Geodesy.earthRadiusMeters
        return min(ends, crossTrack)
    }

    /// How far `SnapIndex`'s planar distance to a segment may stray from the sphere's. The index measures on an
    /// equirectangular plane at the query's latitude φ: east-west offsets scaled by cos φ for every point, and the
    /// segment straight in degrees. A point ρ meters from the query lies within tan φ·ρ/R of φ's scale, so the plane
    /// moves it by at most ρ²·tan φ/R, and every point of a segment lies within ρ = d + L of the query (d the
    /// distance, L the segment's length); a segment straight in degrees leaves its great circle by at most
    /// L²·tan φ/(8R). Twice that sum (the bound is first-order), plus a micrometre for rounding, is the tolerance: in
    /// Helsinki (φ ≈ 60°) a point 300 m from a 200 m segment may differ by about 14 cm, a point 1 m from a 35 m
    /// segment by 0.8 mm. A wrong projection (no cos φ, a clamp lost, tail and head swapped) is off by metres.
    static func toleranceMeters(distance d: Double, segment l: Double, latDegrees: Double) -> Double {
        let tanLat = abs(tan(latDegrees * Double.pi / 180))
        return 2 * tanLat * ((d + l) * (d + l) + l * l / 8) / Geodesy.earthRadiusMeters + 1e-6
    }

    @Test("the grid finds the nearest segment that a sphere-geometry scan of every edge finds",
          arguments: ["monaco", "helsinki"])
    func nearestMatchesBruteForce(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph, index = network.snapIndex
        var rng = SeededRandom(seed: 42)
        var latRange = (90.0, -90.0), lngRange = (180.0, -180.0)
        for v in 0..<g.nodeCount {
            latRange = (min(latRange.0, g.latDegrees[v]), max(latRange.1, g.latDegrees[v]))
            lngRange = (min(lngRange.0, g.lngDegrees[v]), max(lngRange.1, g.lngDegrees[v]))
        }
        let nodes = (0..<g.nodeCount).map { Unit(latDegrees: g.latDegrees[$0], lngDegrees: g.lngDegrees[$0]) }
        var tails = [Int](repeating: 0, count: g.edgeCount)
        for u in 0..<g.nodeCount { for e in g.outgoing(u) { tails[e] = u } }
        func segmentMeters(_ e: Int) -> Double {
            2 * asin(min(1, (nodes[Int(g.forwardHeads[e])] - nodes[tails[e]]).norm / 2)) * Geodesy.earthRadiusMeters
        }
        func sphereMeters(_ q: Unit, _ e: Int) -> Double {
            Self.sphereDistanceMeters(q, nodes[tails[e]], nodes[Int(g.forwardHeads[e])])
        }
        var worstRatio = 0.0
        for _ in 0..<150 {
            let p = LatLng(degrees: Double.random(in: latRange.0...latRange.1, using: &rng),
                           Double.random(in: lngRange.0...lngRange.1, using: &rng))
            let q = Unit(latDegrees: p.latDegrees, lngDegrees: p.lngDegrees)
            var best = Double.infinity, bestEdge = -1
            for e in 0..<g.edgeCount {
                let d = sphereMeters(q, e)
                if d < best { best = d; bestEdge = e }
            }
            let snap = try #require(index.snap(p))
            let here = "\(city) point \(p.latDegrees),\(p.lngDegrees)"
            // |snap − best| is bounded by the larger error of the two edges that realise the two minima.
            var tolerance = Self.toleranceMeters(distance: best, segment: segmentMeters(bestEdge), latDegrees: p.latDegrees)
            for hit in snap.edges {
                let t = Self.toleranceMeters(distance: snap.distanceMeters, segment: segmentMeters(hit.edge), latDegrees: p.latDegrees)
                tolerance = max(tolerance, t)
                // Every edge reported lies at the reported distance, on the sphere too...
                #expect(abs(sphereMeters(q, hit.edge) - snap.distanceMeters) <= t, "\(here) edge \(hit.edge)")
                // ...and passes through the snapped point at the reported fraction (the point is linear in degrees).
                let a = tails[hit.edge], b = Int(g.forwardHeads[hit.edge])
                #expect(hit.fraction >= 0 && hit.fraction <= 1)
                #expect(abs(g.latDegrees[a] + hit.fraction * (g.latDegrees[b] - g.latDegrees[a]) - snap.point.latDegrees) < 1e-9
                        && abs(g.lngDegrees[a] + hit.fraction * (g.lngDegrees[b] - g.lngDegrees[a]) - snap.point.lngDegrees) < 1e-9,
                        "\(here) edge \(hit.edge) fraction \(hit.fraction)")
            }
            #expect(abs(snap.distanceMeters - best) <= tolerance,
                    "\(here): snapped at \(snap.distanceMeters) m, the sphere's nearest edge \(bestEdge) is \(best) m")
            // The snapped point is where the answer says, measured by haversine.
            #expect(abs(Geodesy.distanceMeters(p, snap.point) - snap.distanceMeters) <= tolerance, "\(here)")
            worstRatio = max(worstRatio, abs(snap.distanceMeters - best) / tolerance)
        }
        print("SnapTests \(city): worst |snap − sphere| is \(worstRatio) of its tolerance")
    }

    @Test("a point off a road's midpoint snaps onto the segment, not to a node")
    func snapsToSegmentInterior() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        // The longest edge: its midpoint, nudged sideways by 3 m.
        var longest = 0, tail = 0
        for u in 0..<g.nodeCount { for e in g.outgoing(u) where g.lengthsMeters[e] > g.lengthsMeters[longest] { longest = e; tail = u } }
        let a = g.coordinate(tail), b = g.coordinate(Int(g.forwardHeads[longest]))
        let mid = LatLng(lat: (a.lat + b.lat) / 2, lng: (a.lng + b.lng) / 2)
        let bearing = Geodesy.initialBearing(from: a, to: b) + Double.pi / 2
        let p = Geodesy.destination(from: mid, bearing: bearing, distanceMeters: 3)
        let snap = try #require(network.snapIndex.snap(p))
        #expect(snap.distanceMeters < 3.5)
        #expect(snap.edges.contains { $0.edge == longest && $0.fraction > 0.3 && $0.fraction < 0.7 })
    }

    @Test("origin and destination on the same edge pay only the part between them")
    func sameEdgeRoute() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        var longest = 0, tail = 0
        for u in 0..<g.nodeCount { for e in g.outgoing(u) where g.lengthsMeters[e] > g.lengthsMeters[longest] { longest = e; tail = u } }
        let a = g.coordinate(tail), b = g.coordinate(Int(g.forwardHeads[longest]))
        func at(_ t: Double) -> LatLng { LatLng(lat: a.lat + t * (b.lat - a.lat), lng: a.lng + t * (b.lng - a.lng)) }
        var query = network.makeQuery()
        let route = try #require(try query.route(from: at(0.25), to: at(0.75)))
        #expect(abs(route.distanceMeters - 0.5 * g.lengthsMeters[longest]) < 0.5)
        #expect(abs(route.durationSeconds - 0.5 * Double(g.durationsMs[longest]) / 1000) < 0.01)
        #expect(route.nodes.isEmpty)
        // Partial costs at both ends of a longer route: never more than node-to-node plus both whole edges.
        let back = try #require(try query.route(from: at(0.75), to: at(0.25)))
        #expect(back.durationSeconds > 0)
        #expect(Polyline.decode(back.polyline)?.count == back.points.count)
    }

    @Test("a coordinate far from every road is a noRoad error; invalid degrees are badInput")
    func noRoad() throws {
        var query = try Cities.network("helsinki").makeQuery()
        #expect(throws: RoutingError.self) { try query.route(from: LatLng(degrees: 0, 0), to: LatLng(degrees: 60.17, 24.94)) }
        do { _ = try query.snap(LatLng(degrees: 0, 0)); Issue.record("snapped in the ocean") }
        catch { #expect(error.code == .noRoad) }
        do { _ = try query.snap(LatLng(degrees: 95, 0)); Issue.record("snapped an invalid latitude") }
        catch { #expect(error.code == .badInput) }
    }
}

@Suite("Polylines")
struct PolylineTests {
    @Test("encodes the published example and decodes it back")
    func publishedExample() throws {
        let points = [LatLng(degrees: 38.5, -120.2), LatLng(degrees: 40.7, -120.95), LatLng(degrees: 43.252, -126.453)]
        #expect(Polyline.encode(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@")
        let back = try #require(Polyline.decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@"))
        #expect(back.count == 3)
        for (x, y) in zip(points, back) {
            #expect(abs(x.latDegrees - y.latDegrees) < 1e-9 && abs(x.lngDegrees - y.lngDegrees) < 1e-9)
        }
        #expect(Polyline.decode("_p~iF~ps|U_") == nil)
    }
}

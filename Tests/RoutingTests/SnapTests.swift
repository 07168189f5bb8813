import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Snapping to road segments")
struct SnapTests {
    @Test("the grid finds the same nearest segment distance as a brute-force scan", arguments: ["monaco", "helsinki"])
    func nearestMatchesBruteForce(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph, index = network.snapIndex
        var rng = SeededRandom(seed: 42)
        var latRange = (90.0, -90.0), lngRange = (180.0, -180.0)
        for v in 0..<g.nodeCount {
            latRange = (min(latRange.0, g.latDegrees[v]), max(latRange.1, g.latDegrees[v]))
            lngRange = (min(lngRange.0, g.lngDegrees[v]), max(lngRange.1, g.lngDegrees[v]))
        }
        for _ in 0..<150 {
            let p = LatLng(degrees: Double.random(in: latRange.0...latRange.1, using: &rng),
                           Double.random(in: lngRange.0...lngRange.1, using: &rng))
            var best = Double.infinity
            for u in 0..<g.nodeCount { for e in g.outgoing(u) { best = min(best, index.project(p, onto: e, tail: u).meters) } }
            let snap = try #require(index.snap(p))
            #expect(abs(snap.distanceMeters - best) < 1e-6, "point \(p.latDegrees),\(p.lngDegrees)")
            // The snapped point lies on every edge reported, at the reported fraction.
            for hit in snap.edges {
                let proj = index.project(p, onto: hit.edge, tail: index.tail(of: hit.edge))
                #expect(abs(proj.meters - snap.distanceMeters) < 1e-6)
                #expect(abs(proj.fraction - hit.fraction) < 1e-9)
            }
        }
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

import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Route figures without unpacking")
struct RouteFiguresTests {
    @Test("routeFigures equals route's duration and distance on random coordinate pairs, both metrics, every city",
          arguments: ["monaco", "andorra", "helsinki"])
    func equalsRoute(city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        var rng = SplitMix64(seed: 2207)
        for metric in RoutingMetric.allCases {
            var full = network.makeQuery(optimize: metric), figures = network.makeQuery(optimize: metric)
            var compared = 0
            for _ in 0..<200 {
                // Points near (not on) random nodes, so snapping lands mid-edge.
                func point() -> LatLng {
                    let c = g.coordinate(Int(rng.next() % UInt64(g.nodeCount)))
                    return LatLng(degrees: c.latDegrees + Double(Int(rng.next() % 200) - 100) * 1e-6,
                                  c.lngDegrees + Double(Int(rng.next() % 200) - 100) * 1e-6)
                }
                let a = point(), b = point()
                let route = try full.route(from: a, to: b), fig = try figures.routeFigures(from: a, to: b)
                #expect((route == nil) == (fig == nil))
                guard let route, let fig else { continue }
                #expect(abs(route.durationSeconds - fig.durationSeconds) <= 1e-6 * max(1, route.durationSeconds), "\(city) \(metric) \(a) → \(b)")
                #expect(abs(route.distanceMeters - fig.distanceMeters) <= 1e-6 * max(1, route.distanceMeters), "\(city) \(metric) \(a) → \(b)")
                compared += 1
            }
            #expect(compared > 150)
        }
    }
}

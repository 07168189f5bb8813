import Dispatcher
import Engine
import Routing
import Testing
import Vocabulary

/// The road ETA provider the engine's dispatch and the offline simulator share, on a generated grid of 100 m streets.
@Suite struct RoutingETAProviderTests {
    static let network = RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 8, rows: 8, seed: 3))

    static func node(_ v: Int) -> LatLng { network.graph.coordinate(v) }

    @Test("ETAs are the road matrix's seconds over the speed factor; off-road points and bad coordinates are unreachable")
    func matrix() throws {
        let sources = [Self.node(0), Self.node(9), LatLng(degrees: 10, 10), LatLng(degrees: .nan, 7)]
        let targets = [Self.node(63), LatLng(degrees: 45.0003, 7.0004), Self.node(9)]
        var query = Self.network.makeQuery()
        let reference = try query.matrix(sources: Array(sources[0..<2]), targets: targets)
        for factor in [1.0, 0.5] {
            let provider = RoutingETAProvider(network: Self.network, speedFactor: factor)
            // Twice: the second call reuses the first call's workspace and must answer the same.
            for _ in 0..<2 {
                let eta = try provider.etaSeconds(from: sources, to: targets)
                #expect(eta.count == sources.count * targets.count)
                for s in 0..<2 {
                    for t in targets.indices {
                        let want = reference[s][t].map { $0 / factor } ?? .infinity
                        #expect(abs(eta[s * targets.count + t] - want) < 1e-9, "source \(s), target \(t)")
                    }
                }
                #expect(eta[(2 * targets.count)...].allSatisfy { $0 == .infinity }, "no road near, or not a coordinate")
            }
        }
        #expect(try RoutingETAProvider(network: Self.network).etaSeconds(from: [], to: targets).isEmpty)
    }

    @Test("ETAs follow the weights given, free flow by default")
    func weights() throws {
        let free = RoutingETAProvider(network: Self.network)
        #expect(free.weights === Self.network.freeFlow)
        let explicit = RoutingETAProvider(network: Self.network, weights: Self.network.freeFlow, speedFactor: -3)
        #expect(explicit.speedFactor == 1, "a meaningless factor counts as 1")
        #expect(try free.etaSeconds(from: [Self.node(0)], to: [Self.node(63)]) == explicit.etaSeconds(from: [Self.node(0)], to: [Self.node(63)]))
    }
}

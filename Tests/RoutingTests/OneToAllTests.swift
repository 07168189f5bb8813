import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("One-to-all search (PHAST) and reachable nodes")
struct OneToAllTests {
    @Test("PHAST costs equal Dijkstra for every node", arguments: ["monaco", "andorra", "helsinki"])
    func phastEqualsDijkstra(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        for weights in [network.freeFlow, network.distanceWeights] {
            var phast = OneToAllSearch(weights: weights)
            var dijkstra = DijkstraQuery(graph: g, weights: weights.edgeWeights)
            var rng = SeededRandom(seed: 31)
            for _ in 0..<5 {
                let s = Int.random(in: 0..<g.nodeCount, using: &rng), t = Int.random(in: 0..<g.nodeCount, using: &rng)
                let sources = [(s, UInt64(0)), (t, UInt64(1_234))]
                phast.run(sources: sources)
                dijkstra.run(sources: sources.map { (node: $0.0, costMs: $0.1) })
                var misses = 0
                for v in 0..<g.nodeCount where phast.cost(of: v) != dijkstra.dist(v) { misses += 1 }
                #expect(misses == 0, "\(city) \(weights.metric) from \(s),\(t): \(misses) of \(g.nodeCount) nodes differ")
            }
        }
    }

    @Test("reverse PHAST costs equal one-to-one Dijkstra costs to the target", arguments: ["monaco", "andorra"])
    func reverseEqualsDijkstra(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        var phast = OneToAllSearch(weights: network.freeFlow)
        var dijkstra = DijkstraQuery(graph: g, weights: network.freeFlow.edgeWeights)
        var rng = SeededRandom(seed: 43)
        var asymmetric = 0
        for _ in 0..<3 {
            let t = Int.random(in: 0..<g.nodeCount, using: &rng)
            phast.runReverse(targets: [(t, UInt64(0))])
            for _ in 0..<40 {
                let v = Int.random(in: 0..<g.nodeCount, using: &rng)
                let expected = dijkstra.durationMs(from: v, to: t)
                #expect(phast.cost(of: v) == expected, "\(city): \(v) to \(t)")
                if expected != dijkstra.durationMs(from: t, to: v) { asymmetric += 1 }
            }
        }
        // One-way streets make most pairs differ by direction: the test tells the two searches apart.
        #expect(asymmetric > 0)
    }

    @Test("arrival cells hold the nodes that reach the place in time, which on one-way streets are not those it reaches")
    func arrivalCellsAreInward() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        var query = network.makeQuery()
        let grouping = try #require(network.nodeCells(resolution: 10))
        var rng = SeededRandom(seed: 5)
        var differ = 0
        for _ in 0..<4 {
            let place = g.coordinate(Int.random(in: 0..<g.nodeCount, using: &rng))
            let inward = Set(try query.arrivalCells(to: place, withinSeconds: 60, resolution: 10))
            let outward = Set(try query.isochroneCells(from: place, withinSeconds: 60, resolution: 10))
            let search = query.runAllToOne(to: try query.snap(place))
            var expected = Set<H3Cell>()
            for v in 0..<g.nodeCount where (search.cost(of: v) ?? .max) <= 60_000 { expected.insert(grouping.cells[Int(grouping.cellIndexOfNode[v])]) }
            #expect(inward == expected)
            // A node whose coordinate route to the place takes under 50 s is in the area.
            for v in (0..<g.nodeCount).shuffled(using: &rng).prefix(300) {
                guard let route = try query.route(from: g.coordinate(v), to: place), route.durationSeconds < 50 else { continue }
                #expect(inward.contains(grouping.cells[Int(grouping.cellIndexOfNode[v])]), "node \(v), \(route.durationSeconds) s away")
            }
            if inward != outward { differ += 1 }
        }
        #expect(differ > 0, "on Monaco's one-way streets the way in and the way out differ")
    }

    @Test("reachable nodes are exactly those within the limit, with one-to-one durations")
    func reachableWithinLimit() throws {
        let network = try Cities.network("andorra")
        let g = network.graph
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 77)
        for _ in 0..<3 {
            let v = Int.random(in: 0..<g.nodeCount, using: &rng)
            let origin = LatLng(degrees: g.latDegrees[v] + 0.0003, g.lngDegrees[v] - 0.0002)
            let limit = 300.0
            let reached = try query.reachable(from: origin, withinSeconds: limit)
            #expect(!reached.isEmpty)
            #expect(reached.allSatisfy { $0.seconds <= limit })
            // The same costs as a Dijkstra seeded like a coordinate route.
            let snap = try query.snap(origin)
            var dijkstra = DijkstraQuery(graph: g)
            // A start partway along an edge did not make the edge's turn, so its penalty is left out.
            dijkstra.run(sources: snap.edges.map {
                (node: Int(g.forwardHeads[$0.edge]),
                 costMs: UInt64(((1 - $0.fraction) * Double(g.durationsMs[$0.edge] - g.turnPenaltyMs($0.edge))).rounded()))
            })
            let expected = (0..<g.nodeCount).filter { (dijkstra.dist($0) ?? .max) <= UInt64(limit * 1000) }
            #expect(reached.map(\.node) == expected)
            for r in reached.prefix(200) { #expect(Double(dijkstra.dist(r.node) ?? .max) / 1000 == r.seconds) }
            // A one-to-one coordinate route to a node is never faster than the one-to-all time of the quickest graph
            // node at its place (a junction split for turn costs or bans has one node per approach; a route to the
            // place may end at any of them).
            var quickestAtPlace: [Int64: UInt64] = [:]
            for v in 0..<g.nodeCount { if let d = dijkstra.dist(v) { quickestAtPlace[g.osmNodeIds[v]] = min(d, quickestAtPlace[g.osmNodeIds[v]] ?? .max) } }
            for r in reached.prefix(40) {
                let route = try #require(try query.route(from: origin, to: g.coordinate(r.node)))
                let quickest = Double(quickestAtPlace[g.osmNodeIds[r.node]] ?? .max) / 1000
                #expect(route.durationSeconds >= quickest - 1e-9)
            }
        }
    }

    @Test("bad limits are refused")
    func badLimits() throws {
        var query = try Cities.network("monaco").makeQuery()
        let p = LatLng(degrees: 43.7384, 7.4246)
        for bad in [-1.0, .nan, .infinity] {
            do { _ = try query.reachable(from: p, withinSeconds: bad); Issue.record("accepted \(bad)") }
            catch { #expect(error.code == .badInput) }
        }
        #expect(try query.reachable(from: p, withinSeconds: 0).count <= 2)
    }
}

@Suite("Isochrone cells against one-to-one routes")
struct IsochroneCellTests {
    @Test("cells hold nearly every node within 0.95 × max_s and few beyond 1.05 × max_s", arguments: ["monaco", "andorra", "helsinki"])
    func cellsAgainstRoutes(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 515)
        let maxSeconds = 600.0
        for _ in 0..<2 {
            let centre = g.coordinate(Int.random(in: 0..<g.nodeCount, using: &rng))
            let cells = Set(try query.isochroneCells(from: centre, withinSeconds: maxSeconds, resolution: 9))
            #expect(!cells.isEmpty)
            var inside = 0, missing = 0, beyond = 0, beyondIncluded = 0
            for _ in 0..<400 {
                let v = Int.random(in: 0..<g.nodeCount, using: &rng)
                guard let route = try query.route(from: centre, to: g.coordinate(v)) else { continue }
                let cell = try H3.latLngToCell(g.coordinate(v), resolution: 9)
                if route.durationSeconds <= 0.95 * maxSeconds {
                    inside += 1
                    if !cells.contains(cell) { missing += 1 }
                } else if route.durationSeconds >= 1.05 * maxSeconds {
                    beyond += 1
                    if cells.contains(cell) { beyondIncluded += 1 }
                }
            }
            // A cell holding nodes on both sides of the limit goes with its majority, so either kind of node can land
            // on the wrong side of its cell's verdict; together they stay a few percent.
            #expect((missing + beyondIncluded) * 20 <= inside + beyond,
                    "\(city): \(missing) of \(inside) nodes within 0.95 × max_s lack their cell, \(beyondIncluded) of \(beyond) beyond 1.05 × max_s have it")
            #expect(inside == 0 || missing * 10 <= inside, "\(city): \(missing) of \(inside) nodes within 0.95 × max_s lack their cell")
        }
    }
}

import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Contraction hierarchy against Dijkstra")
struct HierarchyTests {
    @Test("CH node-to-node durations equal Dijkstra on the exported CSV graph", arguments: ["monaco", "andorra", "helsinki"])
    func chEqualsDijkstra(_ city: String) throws {
        let network = try Cities.network(city)
        let g = network.graph
        // The twin reads the graph back from export-graph's CSV, so the check covers the export too.
        let exported = ExportedGraph(csv: GraphExport.edgesCSV(g), nodeCount: g.nodeCount)
        var query = network.makeQuery()
        let seed: UInt64 = 20_261_125
        var rng = SeededRandom(seed: seed)
        var misses = 0
        for _ in 0..<400 {
            let s = Int.random(in: 0..<g.nodeCount, using: &rng), t = Int.random(in: 0..<g.nodeCount, using: &rng)
            let want = exported.dijkstra(from: s, to: t)
            let route = try query.route(fromNode: s, toNode: t)
            let got = route?.durationSeconds
            let ok = (want == nil && got == nil) || (want != nil && got != nil && abs(want! - got!) <= 1e-6 * max(1, want!))
            if !ok {
                misses += 1
                if misses <= 10 { Issue.record("seed \(seed) \(city) \(s)→\(t): CH \(String(describing: got)), Dijkstra \(String(describing: want))") }
            }
            // The unpacked path is a real path of the graph with the same cost.
            if let route {
                #expect(route.nodes.first == s && route.nodes.last == t)
                var ms: UInt64 = 0
                for i in 1..<max(1, route.nodes.count) {
                    let e = try #require(g.cheapestEdge(from: route.nodes[i - 1], to: route.nodes[i], weights: g.durationsMs))
                    ms += UInt64(g.durationsMs[e])
                }
                #expect(Double(ms) / 1000 == route.durationSeconds)
            }
        }
        #expect(misses == 0, "\(misses) of 400 pairs differ (seed \(seed))")
    }

    @Test("bucket matrices equal one-to-one queries")
    func matrixEqualsOneToOne() throws {
        let network = try Cities.network("monaco")
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 7)
        let n = network.graph.nodeCount
        let sources = (0..<40).map { _ in Int.random(in: 0..<n, using: &rng) }
        let targets = (0..<60).map { _ in Int.random(in: 0..<n, using: &rng) }
        let rows = query.matrixMs(sourceNodes: sources, targetNodes: targets)
        var misses = 0
        for (i, s) in sources.enumerated() {
            for (j, t) in targets.enumerated() where (query.durationMs(fromNode: s, toNode: t) ?? .max) != rows[i][j] {
                misses += 1
            }
        }
        #expect(misses == 0)
    }

    @Test("search spaces meet at the bucket matrix's cost, pair by pair, unreachable pairs included")
    func searchSpacesEqualMatrix() throws {
        let network = try Cities.network("monaco")
        var engine = CHMatrix(hierarchy: network.freeFlow.hierarchy)
        var rng = SeededRandom(seed: 11)
        let n = network.graph.nodeCount
        // Multi-node starts with offsets, as a snapped point enters the graph at both ends of its edge.
        let sources = (0..<30).map { _ in [(Int.random(in: 0..<n, using: &rng), UInt64.random(in: 0..<5_000, using: &rng)),
                                           (Int.random(in: 0..<n, using: &rng), UInt64.random(in: 0..<5_000, using: &rng))] }
        let targets = (0..<30).map { _ in [(Int.random(in: 0..<n, using: &rng), UInt64.random(in: 0..<5_000, using: &rng))] }
        let rows = engine.durationsMs(sources: sources, targets: targets)
        let forward = sources.map { engine.searchSpace(from: $0, forward: true) }
        let backward = targets.map { engine.searchSpace(from: $0, forward: false) }
        var misses = 0
        for i in sources.indices {
            #expect(zip(forward[i].nodes, forward[i].nodes.dropFirst()).allSatisfy { $0 < $1 }, "space not sorted")
            for j in targets.indices where forward[i].meet(backward[j]) != rows[i][j] { misses += 1 }
        }
        #expect(misses == 0, "\(misses) of 900 pairs differ")
        // A node pair with no path meets nowhere: one-way graph, 1 cannot reach 0.
        let graph = RoadGraph.build(latDegrees: [43.73, 43.731], lngDegrees: [7.42, 7.421], osmNodeIds: [1, 2],
                                    tails: [0], heads: [1], durationsMs: [1_000], lengthsMeters: [100])
        var oneWay = CHMatrix(hierarchy: RoadNetwork.build(graph: graph).freeFlow.hierarchy)
        let from1 = oneWay.searchSpace(from: [(1, 0)], forward: true), to0 = oneWay.searchSpace(from: [(0, 0)], forward: false)
        #expect(from1.meet(to0) == .max)
        #expect(oneWay.searchSpace(from: [(0, 0)], forward: true).meet(oneWay.searchSpace(from: [(1, 0)], forward: false)) == 1_000)
    }

    @Test("coordinate matrices and one-to-many equal coordinate routes")
    func coordinateMatrix() throws {
        let network = try Cities.network("andorra")
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 99)
        let g = network.graph
        func randomPoint() -> HexGeoPoint {
            let v = Int.random(in: 0..<g.nodeCount, using: &rng)
            return HexGeoPoint(degrees: g.latDegrees[v] + Double.random(in: -0.001...0.001, using: &rng),
                               g.lngDegrees[v] + Double.random(in: -0.001...0.001, using: &rng))
        }
        let sources = (0..<8).map { _ in randomPoint() }, targets = (0..<12).map { _ in randomPoint() }
        let table = try query.matrix(sources: sources, targets: targets)
        for (i, s) in sources.enumerated() {
            let row = try query.oneToMany(from: s, to: targets)
            #expect(row == table[i])
            for (j, t) in targets.enumerated() {
                let route = try query.route(from: s, to: t)
                #expect(route?.durationSeconds == table[i][j], "source \(i) target \(j)")
            }
        }
    }

    @Test("re-contracting with a fixed order gives the same answers")
    func fixedOrder() throws {
        let network = try Cities.network("helsinki")
        let rank = network.freeFlow.hierarchy.rank
        var order = [UInt32](repeating: 0, count: rank.count)
        for v in 0..<rank.count { order[Int(rank[v])] = UInt32(v) }
        let again = Contractor.contract(network.graph, order: order)
        var a = CHQuery(hierarchy: network.freeFlow.hierarchy), b = CHQuery(hierarchy: again)
        var rng = SeededRandom(seed: 3)
        for _ in 0..<200 {
            let s = Int.random(in: 0..<rank.count, using: &rng), t = Int.random(in: 0..<rank.count, using: &rng)
            #expect(a.durationMs(from: s, to: t) == b.durationMs(from: s, to: t))
        }
    }
}

typealias HexGeoPoint = Vocabulary.LatLng

/// The exported edge CSV parsed back, with a textbook Dijkstra over doubles.
struct ExportedGraph {
    var adjacency: [[(Int, Double)]]

    init(csv: String, nodeCount: Int) {
        adjacency = Array(repeating: [], count: nodeCount)
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            adjacency[Int(f[0])!].append((Int(f[1])!, Double(f[3])!))
        }
    }

    func dijkstra(from s: Int, to t: Int) -> Double? {
        var dist = [Double](repeating: .infinity, count: adjacency.count)
        var done = [Bool](repeating: false, count: adjacency.count)
        var heap = [(Double, Int)]()
        func push(_ x: (Double, Int)) {
            heap.append(x)
            var i = heap.count - 1
            while i > 0, heap[(i - 1) / 2].0 > heap[i].0 { heap.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        func pop() -> (Double, Int) {
            let top = heap[0]
            heap[0] = heap[heap.count - 1]
            heap.removeLast()
            var i = 0
            while true {
                var c = 2 * i + 1
                if c >= heap.count { break }
                if c + 1 < heap.count, heap[c + 1].0 < heap[c].0 { c += 1 }
                if heap[c].0 >= heap[i].0 { break }
                heap.swapAt(i, c)
                i = c
            }
            return top
        }
        dist[s] = 0
        push((0, s))
        while !heap.isEmpty {
            let (d, u) = pop()
            if done[u] { continue }
            done[u] = true
            if u == t { return d }
            for (v, w) in adjacency[u] where d + w < dist[v] {
                dist[v] = d + w
                push((d + w, v))
            }
        }
        return nil
    }
}

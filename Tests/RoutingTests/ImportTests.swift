import Foundation
import Testing
import TestSupport
@testable import Routing

@Suite("OSM PBF import")
struct ImportTests {
    @Test("import counts equal osmium fileinfo -e on every shared extract", arguments: Cities.expected)
    func counts(_ city: Cities.Expected) throws {
        let network = try Cities.network(city.name)
        let summary = try #require(network.importSummary)
        #expect(summary.nodesRead == city.nodes)
        #expect(summary.waysRead == city.ways)
        #expect(summary.relationsRead == city.relations)
        #expect(summary.graphNodes == network.graph.nodeCount)
        #expect(summary.graphEdges == network.graph.edgeCount)
        #expect(summary.graphNodes > 1_000)
        #expect(summary.json.contains("\"dropped_nodes\":\(summary.droppedNodes)"))
    }

    @Test("every node of the imported graph reaches and is reached from node 0 (one strongly connected component)")
    func stronglyConnected() throws {
        let g = try Cities.network("helsinki").graph
        var query = DijkstraQuery(graph: g)
        query.run(sources: [(0, 0)])
        #expect((0..<g.nodeCount).allSatisfy { query.dist($0) != nil })
        // Reverse reachability through the backward CSR.
        var seen = [Bool](repeating: false, count: g.nodeCount)
        var stack = [0]
        seen[0] = true
        while let v = stack.popLast() {
            for i in Int(g.backwardOffsets[v])..<Int(g.backwardOffsets[v + 1]) where !seen[Int(g.backwardTails[i])] {
                seen[Int(g.backwardTails[i])] = true
                stack.append(Int(g.backwardTails[i]))
            }
        }
        #expect(seen.allSatisfy { $0 })
    }

    @Test("a truncated PBF is a truncated error, not a crash")
    func truncatedPBF() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Cities.path("helsinki")))
        var collector = OSMImporter.Collector(profile: CarProfile())
        for cut in [3, 20, 200, data.count / 2] {
            #expect(throws: RoutingError.self) { try PBFReader.read(bytes: data.prefix(cut), into: &collector) }
        }
        do {
            _ = try PBFReader.read(bytes: data.prefix(data.count / 2), into: &collector)
            Issue.record("half a file imported without error")
        } catch {
            #expect(error.code == .truncated)
        }
    }

    @Test("garbage bytes give a typed error")
    func garbage() {
        var collector = OSMImporter.Collector(profile: CarProfile())
        var rng = SeededRandom(seed: 11)
        for _ in 0..<50 {
            let bytes = Data((0..<Int.random(in: 0..<400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            #expect(throws: RoutingError.self) { try PBFReader.read(bytes: bytes, into: &collector) }
        }
    }

    @Test("restrictions for some hours or days only are skipped, others kept")
    func timedRestrictions() {
        var collector = OSMImporter.Collector(profile: CarProfile())
        let members = [OSMMember(kind: .way, id: 1, role: "from"), OSMMember(kind: .node, id: 2, role: "via"),
                       OSMMember(kind: .way, id: 3, role: "to")]
        collector.relation(id: 10, tags: ["type": "restriction", "restriction": "no_left_turn"], members: members)
        collector.relation(id: 11, tags: ["type": "restriction", "restriction": "no_left_turn", "day_on": "Mo", "day_off": "Fr",
                                          "hour_on": "7", "hour_off": "18"], members: members)
        collector.relation(id: 12, tags: ["type": "restriction", "restriction": "no_u_turn", "hour_on": "22"], members: members)
        #expect(collector.restrictions.count == 1)
        #expect(collector.skippedRestrictions == 2)
    }

    @Test("the car profile honours oneway, roundabouts, motorways, access and maxspeed")
    func profile() {
        let p = CarProfile()
        #expect(p.rule(for: ["highway": "footway"]) == nil)
        // Tracks and unclassified "road"s are open to cars by default, as in Valhalla; access tags still close them.
        #expect(p.rule(for: ["highway": "track"])?.forwardKmh == 15)
        #expect(p.rule(for: ["highway": "road"])?.backwardKmh == 25)
        #expect(p.rule(for: ["highway": "track", "motor_vehicle": "no"]) == nil)
        #expect(p.rule(for: ["highway": "residential", "access": "private"]) == nil)
        #expect(p.rule(for: ["highway": "residential", "access": "no", "motor_vehicle": "yes"]) != nil)
        #expect(p.rule(for: ["highway": "primary", "motor_vehicle": "no"]) == nil)
        #expect(p.rule(for: ["highway": "residential", "oneway": "yes"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "residential", "oneway": "-1"])?.forwardKmh == nil)
        #expect(p.rule(for: ["highway": "residential", "oneway": "-1"])?.backwardKmh == 25)
        #expect(p.rule(for: ["highway": "tertiary", "junction": "roundabout"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "motorway"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "motorway", "oneway": "no"])?.backwardKmh != nil)
        #expect(p.rule(for: ["highway": "primary", "maxspeed": "50"])?.forwardKmh == 40)
        #expect(CarProfile.parseMaxspeed("30 mph").map { abs($0 - 48.28) < 0.01 } == true)
        #expect(CarProfile.parseMaxspeed("none") == nil)
        #expect(CarProfile.parseMaxspeed("FR:urban") == nil)
    }
}

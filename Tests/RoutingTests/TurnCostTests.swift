import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Turn costs")
struct TurnCostTests {
    /// A small road network laid out in meters east (x) and north (y) of a point in Monaco, built the way the importer
    /// builds one: work edges, turn bans, turn costs, then the graph.
    struct Sketch {
        var ids: [Int64] = []
        var lat: [Double] = [], lng: [Double] = []
        var edges: [OSMImporter.WorkEdge] = []

        mutating func node(_ id: Int64, x: Double, y: Double) {
            ids.append(id)
            lat.append(43.73 + y / 111_195)
            lng.append(7.42 + x / (111_195 * cos(43.73 * .pi / 180)))
        }

        /// A two-way road (or one-way with `oneway`) between OSM nodes `a` and `b` at `kmh`, road class rank 2.
        mutating func road(_ a: Int64, _ b: Int64, way: Int64, kmh: Double = 36, oneway: Bool = false) {
            guard let i = ids.firstIndex(of: a), let j = ids.firstIndex(of: b) else { return }
            let meters = Geodesy.distanceMeters(LatLng(degrees: lat[i], lng[i]), LatLng(degrees: lat[j], lng[j]))
            for (t, h) in oneway ? [(i, j)] : [(i, j), (j, i)] {
                edges.append(OSMImporter.WorkEdge(tail: Int32(t), head: Int32(h), durationMs: OSMImporter.durationMs(meters, kmh),
                                                  lengthMeters: meters, wayId: way, origin: Int32(edges.count), roadClassRank: 2))
            }
        }

        /// Applies `restrictions` and `costs` as the importer does and contracts the result.
        func network(costs: TurnCosts? = .rightHandTraffic, restrictions: [OSMImporter.Restriction] = [],
                     summary: inout ImportSummary) -> RoadNetwork {
            var lat = lat, lng = lng, osm = ids, edges = edges
            var index: [Int64: Int32] = [:]
            for (i, id) in ids.enumerated() { index[id] = Int32(i) }
            OSMImporter.applyRestrictions(restrictions, graphIndex: index, lat: &lat, lng: &lng, osm: &osm, edges: &edges, summary: &summary)
            if let costs { OSMImporter.applyTurnCosts(costs, lat: &lat, lng: &lng, osm: &osm, edges: &edges, summary: &summary) }
            let graph = RoadGraph.build(latDegrees: lat, lngDegrees: lng, osmNodeIds: osm,
                                        tails: edges.map { UInt32($0.tail) }, heads: edges.map { UInt32($0.head) },
                                        durationsMs: edges.map(\.durationMs), lengthsMeters: edges.map(\.lengthMeters),
                                        turnPenaltyUnits: edges.map { RoadGraph.turnPenaltyUnits($0.turnPenaltyMs) })
            return RoadNetwork.build(graph: graph)
        }

        func network(costs: TurnCosts? = .rightHandTraffic, restrictions: [OSMImporter.Restriction] = []) -> RoadNetwork {
            var summary = ImportSummary()
            return network(costs: costs, restrictions: restrictions, summary: &summary)
        }

        func position(_ id: Int64) -> LatLng {
            let i = ids.firstIndex(of: id) ?? 0
            return LatLng(degrees: lat[i], lng[i])
        }
    }

    /// The graph nodes standing for OSM node `id`.
    static func nodes(_ network: RoadNetwork, _ id: Int64) -> [Int] {
        (0..<network.graph.nodeCount).filter { network.graph.osmNodeIds[$0] == id }
    }

    /// The graph node for OSM node `id` that is entered from OSM node `from`.
    static func node(_ network: RoadNetwork, _ id: Int64, enteredFrom from: Int64) -> Int? {
        let g = network.graph
        return nodes(network, id).first { v in
            (Int(g.backwardOffsets[v])..<Int(g.backwardOffsets[v + 1])).contains { g.osmNodeIds[Int(g.backwardTails[$0])] == from }
        }
    }

    /// A crossing at node 1 of four 100 m arms: 2 north, 3 east, 4 south, 5 west.
    static func crossing() -> Sketch {
        var s = Sketch()
        s.node(1, x: 0, y: 0); s.node(2, x: 0, y: 100); s.node(3, x: 100, y: 0); s.node(4, x: 0, y: -100); s.node(5, x: -100, y: 0)
        s.road(4, 1, way: 10); s.road(1, 2, way: 10); s.road(5, 1, way: 20); s.road(1, 3, way: 20)
        return s
    }

    @Test("the angle model: straight is free, a turn across traffic costs more than one with it, a U-turn the most")
    func penaltyModel() {
        let right = TurnCosts.rightHandTraffic
        #expect(right.penaltyMs(turnDegrees: 0, uTurn: false) < 20)
        let left90 = right.penaltyMs(turnDegrees: 90, uTurn: false), right90 = right.penaltyMs(turnDegrees: -90, uTurn: false)
        #expect((5_000...5_800).contains(left90), "left \(left90)")
        #expect((1_800...2_400).contains(right90), "right \(right90)")
        #expect(right.penaltyMs(turnDegrees: 180, uTurn: true) >= 27_000)
        var left = right
        left.leftHandTraffic = true
        #expect(left.penaltyMs(turnDegrees: -90, uTurn: false) == left90)
        #expect(left.penaltyMs(turnDegrees: 90, uTurn: false) == right90)
        // Counter-clockwise is positive: north then west is a left turn.
        let s = Self.crossing()
        let a = (lat: s.lat[3], lng: s.lng[3]), b = (lat: s.lat[0], lng: s.lng[0])
        #expect(abs(TurnCosts.turnDegrees(a, b, (lat: s.lat[4], lng: s.lng[4])) - 90) < 0.5)
        #expect(abs(TurnCosts.turnDegrees(a, b, (lat: s.lat[2], lng: s.lng[2])) + 90) < 0.5)
    }

    @Test("a left turn costs more than a right turn, and going straight least")
    func leftCostsMoreThanRight() throws {
        var summary = ImportSummary()
        let network = Self.crossing().network(summary: &summary)
        #expect(summary.turnCostJunctions == 1)
        #expect(summary.turnCostCopies == 3)   // four approaches: the node itself and three copies
        var query = network.makeQuery()
        let south = try #require(Self.nodes(network, 4).first)
        func seconds(_ to: Int64) throws -> Double {
            let target = try #require(Self.nodes(network, to).first)
            return try #require(try query.route(fromNode: south, toNode: target)).durationSeconds
        }
        let straight = try seconds(2), rightTurn = try seconds(3), leftTurn = try seconds(5)
        #expect(straight < rightTurn)
        #expect(rightTurn + 3 < leftTurn, "right \(rightTurn) s, left \(leftTurn) s")
        // Without turn costs the three are the same 100 m + 100 m.
        var plain = Self.crossing().network(costs: nil).makeQuery()
        let a = try #require(try plain.route(fromNode: 0, toNode: 1)).durationSeconds
        #expect(abs(a - 10) < 0.01)
        #expect(abs(straight - a * 2) < 0.1)
    }

    /// A street 0–1 (150 m south of junction 1) and a square block 1–2–3–4 of side `side` meters north-east of it;
    /// each corner 2, 3, 4 also has a 280 m dead-end spur (5, 6, 7), so the corners are junctions whose U-turns are
    /// charged too (at a node of degree two a U-turn is free, see docs/routing.md).
    static func block(side: Double) -> Sketch {
        var s = Sketch()
        s.node(0, x: 0, y: -150); s.node(1, x: 0, y: 0); s.node(2, x: side, y: 0); s.node(3, x: side, y: side); s.node(4, x: 0, y: side)
        s.node(5, x: side + 200, y: -200); s.node(6, x: side + 200, y: side + 200); s.node(7, x: -200, y: side + 200)
        s.road(0, 1, way: 1); s.road(1, 2, way: 2); s.road(2, 3, way: 2); s.road(3, 4, way: 2); s.road(4, 1, way: 2)
        s.road(2, 5, way: 3); s.road(3, 6, way: 4); s.road(4, 7, way: 5)
        return s
    }

    @Test("turning back at a junction is charged: the loop around the block is taken only when cheaper")
    func uTurnAtJunction() throws {
        let costs = TurnCosts.rightHandTraffic
        let uTurn = 15 + Double(costs.penaltyMs(turnDegrees: 180, uTurn: true)) / 1000   // 150 m at 36 km/h and the U-turn
        for (side, expectLoop) in [(20.0, true), (100.0, false)] {
            let network = Self.block(side: side).network()
            var query = network.makeQuery()
            // Arrived at junction 1 from the street's far end 0; going back to 0.
            let arrived = try #require(Self.node(network, 1, enteredFrom: 0))
            let back = try #require(Self.nodes(network, 0).first)
            let route = try #require(try query.route(fromNode: arrived, toNode: back))
            let osm = route.nodes.map { network.graph.osmNodeIds[$0] }
            if expectLoop {
                #expect(Set(osm).isSuperset(of: [2, 3, 4]), "side \(side): around the block, got \(osm)")
                #expect(route.durationSeconds < uTurn)
            } else {
                #expect(osm == [1, 0], "side \(side): the U-turn, got \(osm)")
                #expect(abs(route.durationSeconds - uTurn) < 0.01, "side \(side): \(route.durationSeconds) s")
            }
        }
    }

    @Test("from coordinates: a start partway along an edge pays no turn, an end partway pays its turn in full")
    func partialEdges() throws {
        let s = Self.crossing()
        let network = s.network()
        var query = network.makeQuery()
        func point(_ a: Int64, _ b: Int64, _ f: Double) -> LatLng {
            let p = s.position(a), q = s.position(b)
            return LatLng(degrees: p.latDegrees + f * (q.latDegrees - p.latDegrees), p.lngDegrees + f * (q.lngDegrees - p.lngDegrees))
        }
        // From halfway up the south arm to halfway along the west arm: 50 m, a left turn, 50 m.
        let left = try #require(try query.route(from: point(4, 1, 0.5), to: point(1, 5, 0.5)))
        let right = try #require(try query.route(from: point(4, 1, 0.5), to: point(1, 3, 0.5)))
        let costs = TurnCosts.rightHandTraffic
        #expect(abs(left.durationSeconds - (10 + Double(costs.penaltyMs(turnDegrees: 90, uTurn: false)) / 1000)) < 0.05)
        #expect(abs(right.durationSeconds - (10 + Double(costs.penaltyMs(turnDegrees: -90, uTurn: false)) / 1000)) < 0.05)
        #expect(abs(left.distanceMeters - 100) < 0.5)
        // Along one edge: no turn at all.
        let along = try #require(try query.route(from: point(1, 5, 0.2), to: point(1, 5, 0.7)))
        #expect(abs(along.durationSeconds - 5) < 0.05)
        // Matrices give the same figures as one-to-one.
        let table = try query.table(sources: [point(4, 1, 0.5)], targets: [point(1, 5, 0.5), point(1, 3, 0.5), point(1, 5, 0.7)])
        #expect(abs((table.durationsSeconds[0][0] ?? 0) - left.durationSeconds) < 0.002)
        #expect(abs((table.durationsSeconds[0][1] ?? 0) - right.durationSeconds) < 0.002)
    }

    @Test("turn bans still hold after the junction is split for turn costs")
    func bansHold() throws {
        let s = Self.crossing()
        let restrictions = [
            OSMImporter.Restriction(fromWay: 10, viaNode: 1, toWay: 20, only: false),   // from way 10: no turn onto way 20
        ]
        var summary = ImportSummary()
        let network = s.network(restrictions: restrictions, summary: &summary)
        #expect(summary.restrictionsApplied == 1)
        let g = network.graph
        for approach in [Int64(4), 2] {
            for v in Self.nodes(network, 1) {
                let entered = (Int(g.backwardOffsets[v])..<Int(g.backwardOffsets[v + 1])).contains {
                    g.osmNodeIds[Int(g.backwardTails[$0])] == approach
                }
                guard entered else { continue }
                let exits = Set(g.outgoing(v).map { g.osmNodeIds[Int(g.forwardHeads[$0])] })
                #expect(exits == [2, 4], "from \(approach): \(exits)")
            }
        }
        // Every way onto way 20 from way 10 is banned, and the other arms are dead ends: east is out of reach.
        var query = network.makeQuery()
        let south = Self.nodes(network, 4)[0], east = Self.nodes(network, 3)[0]
        #expect(try query.route(fromNode: south, toNode: east) == nil)
    }

    @Test("a junction's copies drive one road each way: observed speeds reach every copy, the turn penalty stays")
    func copiesShareTheirRoad() {
        let network = Self.crossing().network()
        let g = network.graph
        let roads = g.roadOfEdge()
        #expect(Set(roads).count == 8, "four arms, two directions")
        // One observation at 18 km/h on the road from the junction to the east arm, recorded on its representative.
        let eastward = (0..<g.edgeCount).filter { e in
            g.osmNodeIds[network.snapIndex.tail(of: e)] == 1 && g.osmNodeIds[Int(g.forwardHeads[e])] == 3
        }
        #expect(eastward.count == 4, "one per approach")
        var hourly = HourOfWeekSpeeds()
        hourly.add(kmh: 18, edges: [Int(roads[eastward[0]])], timestampMs: 0)
        let weights = hourly.edgeWeights(bucket: HourOfWeekSpeeds.bucket(timestampMs: 0), graph: g, roads: roads)
        for e in eastward {
            // Smoothed toward free flow (36 km/h) as if 5 free-flow observations were made: (18 + 5 × 36) / 6 = 33 km/h.
            let roadMs = OSMImporter.durationMs(g.lengthsMeters[e], 33)
            #expect(weights[e] == roadMs + g.turnPenaltyMs(e), "edge \(e): \(weights[e]) ms")
        }
        #expect(Set(eastward.map { g.turnPenaltyMs($0) }).count >= 3, "straight, right, left and U-turn onto it differ")
    }

    @Test("hierarchy durations equal Dijkstra on the exported graph with turn costs at every junction (Helsinki)")
    func hierarchyEqualsDijkstra() throws {
        var everywhere = TurnCosts.rightHandTraffic
        everywhere.maxRoadClassRank = .max
        let (graph, summary) = try OSMImporter.importGraph(path: Cities.path("helsinki"), profile: CarProfile(turnCosts: everywhere))
        #expect(summary.turnCostCopies > 200)
        let network = RoadNetwork.build(graph: graph)
        let exported = ExportedGraph(csv: GraphExport.edgesCSV(graph), nodeCount: graph.nodeCount)
        var query = network.makeQuery()
        var rng = SeededRandom(seed: 22)
        var compared = 0
        for _ in 0..<200 {
            let s = Int.random(in: 0..<graph.nodeCount, using: &rng), t = Int.random(in: 0..<graph.nodeCount, using: &rng)
            let expected = exported.dijkstra(from: s, to: t)
            let got = try query.route(fromNode: s, toNode: t)
            #expect((got?.durationSeconds).map { abs($0 - (expected ?? -1)) <= 1e-6 * max(1, $0) } ?? (expected == nil),
                    "\(s)→\(t): CH \(String(describing: got?.durationSeconds)) vs Dijkstra \(String(describing: expected))")
            compared += 1
        }
        #expect(compared == 200)
    }
}

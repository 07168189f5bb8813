import Foundation
import HexGeo
import Testing
@testable import Routing

@Suite("Turn restrictions")
struct RestrictionTests {
    /// Restrictions of the Monaco extract with the node before the via node on the from-way and after it on the to-way.
    static func monacoTurns() throws -> [(kind: Bool, u: Int64, via: Int64, w: Int64)] {
        var collector = OSMImporter.Collector(profile: CarProfile())
        _ = try PBFReader.read(path: Cities.path("monaco"), into: &collector)
        var ways: [Int64: [Int64]] = [:]
        for w in collector.ways { ways[w.id] = w.refs }
        var turns: [(Bool, Int64, Int64, Int64)] = []
        for r in collector.restrictions {
            guard let from = ways[r.fromWay], let to = ways[r.toWay] else { continue }
            // Neighbours of the via node along each way (way ends normally meet at the via node).
            func neighbours(_ refs: [Int64]) -> [Int64] {
                var out: [Int64] = []
                for (i, x) in refs.enumerated() where x == r.viaNode {
                    if i > 0 { out.append(refs[i - 1]) }
                    if i + 1 < refs.count { out.append(refs[i + 1]) }
                }
                return out
            }
            for u in neighbours(from) { for w in neighbours(to) where u != w || r.fromWay == r.toWay { turns.append((r.only, u, r.viaNode, w)) } }
        }
        return turns
    }

    @Test("no graph node reached from a restricted from-edge can turn onto the banned to-edge")
    func bannedTurnsAreAbsent() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        let turns = try Self.monacoTurns().filter { !$0.kind }
        #expect(turns.count >= 3)
        var byOsm: [Int64: [Int]] = [:]
        for v in 0..<g.nodeCount { byOsm[g.osmNodeIds[v], default: []].append(v) }
        var checked = 0
        for t in turns {
            for via in byOsm[t.via] ?? [] {
                let entersFromU = (Int(g.backwardOffsets[via])..<Int(g.backwardOffsets[via + 1])).contains {
                    g.osmNodeIds[Int(g.backwardTails[$0])] == t.u
                }
                guard entersFromU else { continue }
                let exitsToW = g.outgoing(via).contains { g.osmNodeIds[Int(g.forwardHeads[$0])] == t.w }
                #expect(!exitsToW, "turn \(t.u)→\(t.via)→\(t.w) is still possible at graph node \(via)")
                checked += 1
            }
        }
        #expect(checked >= 3)
        // only_* turns: a copy entered from the from-way's node leaves only onto the to-way.
        var onlyChecked = 0
        for t in try Self.monacoTurns() where t.kind {
            for via in byOsm[t.via] ?? [] {
                let entersFromU = (Int(g.backwardOffsets[via])..<Int(g.backwardOffsets[via + 1])).contains {
                    g.osmNodeIds[Int(g.backwardTails[$0])] == t.u
                }
                guard entersFromU else { continue }
                #expect(g.outgoing(via).allSatisfy { g.osmNodeIds[Int(g.forwardHeads[$0])] == t.w })
                onlyChecked += 1
            }
        }
        #expect(onlyChecked >= 5)
    }

    @Test("the fastest route between the ends of a banned turn detours around it")
    func routeAvoidsBannedTurn() throws {
        let network = try Cities.network("monaco")
        let g = network.graph
        var byOsm: [Int64: [Int]] = [:]
        for v in 0..<g.nodeCount { byOsm[g.osmNodeIds[v], default: []].append(v) }
        var query = network.makeQuery()
        var detours = 0
        for t in try Self.monacoTurns() where !t.kind {
            guard let us = byOsm[t.u], let ws = byOsm[t.w], let vias = byOsm[t.via] else { continue }
            // Plain turn cost if it were allowed: the cheapest u→via plus via→w edges, any copies.
            var direct = UInt64.max
            for u in us { for v in vias { for x in ws {
                guard let a = g.cheapestEdge(from: u, to: v, weights: g.durationsMs) else { continue }
                // via→w as in the original (unsplit) node: any copy of via that has the edge.
                for v2 in vias { if let b = g.cheapestEdge(from: v2, to: x, weights: g.durationsMs) {
                    direct = min(direct, UInt64(g.durationsMs[a]) + UInt64(g.durationsMs[b]))
                } }
            } } }
            guard direct != .max else { continue }
            for u in us {
                for x in ws {
                    guard let route = try query.route(fromNode: u, toNode: x) else { continue }
                    // The route never enters via from u and leaves to w.
                    for i in 1..<max(1, route.nodes.count - 1) {
                        let a = g.osmNodeIds[route.nodes[i - 1]], b = g.osmNodeIds[route.nodes[i]], c = g.osmNodeIds[route.nodes[i + 1]]
                        #expect(!(a == t.u && b == t.via && c == t.w), "route \(u)→\(x) takes banned turn via \(t.via)")
                    }
                    if UInt64((route.durationSeconds * 1000).rounded()) > direct { detours += 1 }
                }
            }
        }
        #expect(detours >= 1)
    }
}

@Suite("Via-node splitting")
struct SplittingTests {
    /// A two-way way 10–11–12 (way 1) crossing a two-way way 20–11–21 (way 2) at node 11.
    static func cross() -> ([Int64: Int32], [Double], [Double], [Int64], [OSMImporter.WorkEdge]) {
        let ids: [Int64] = [10, 11, 12, 20, 21]
        var index: [Int64: Int32] = [:]
        for (i, id) in ids.enumerated() { index[id] = Int32(i) }
        var edges: [OSMImporter.WorkEdge] = []
        for (way, a, b) in [(Int64(1), Int64(10), Int64(11)), (1, 11, 12), (2, 20, 11), (2, 11, 21)] {
            for (t, h) in [(a, b), (b, a)] {
                edges.append(OSMImporter.WorkEdge(tail: index[t]!, head: index[h]!, durationMs: 1_000, lengthMeters: 10,
                                                  wayId: way, origin: Int32(edges.count)))
            }
        }
        return (index, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], ids, edges)
    }

    /// The OSM ids reachable in one turn from `from` through via node 11.
    static func turns(from: Int64, _ ids: [Int64], _ edges: [OSMImporter.WorkEdge]) -> Set<Int64> {
        var out: Set<Int64> = []
        for e in edges where ids[Int(e.tail)] == from && ids[Int(e.head)] == 11 {
            for f in edges where f.tail == e.head { out.insert(ids[Int(f.head)]) }
        }
        return out
    }

    @Test("no_u_turn on one way bans only the way back; no_left_turn and only_straight_on act on their approach")
    func splitting() {
        let (index, lat0, lng0, ids0, edges0) = Self.cross()
        var lat = lat0, lng = lng0, ids = ids0, edges = edges0
        var summary = ImportSummary()
        let restrictions = [
            OSMImporter.Restriction(fromWay: 1, viaNode: 11, toWay: 1, only: false),   // no U-turn on way 1
            OSMImporter.Restriction(fromWay: 2, viaNode: 11, toWay: 1, only: true),    // from way 2: only onto way 1
        ]
        OSMImporter.applyRestrictions(restrictions, graphIndex: index, lat: &lat, lng: &lng, osm: &ids, edges: &edges, summary: &summary)
        #expect(summary.restrictionsApplied == 2)
        #expect(Self.turns(from: 10, ids, edges) == [12, 20, 21])   // straight and both turns, no U-turn
        #expect(Self.turns(from: 12, ids, edges) == [10, 20, 21])
        #expect(Self.turns(from: 20, ids, edges) == [10, 12])       // only onto way 1
        #expect(Self.turns(from: 21, ids, edges) == [10, 12])
    }
}

import Foundation
import HexGeo
import Vocabulary

/// Builds a `RoadGraph` for one mode of travel (car by default, see `WayRules`) from an OSM PBF file.
///
/// Every node of a routable way becomes a graph node and every consecutive pair of way nodes an edge, so each edge
/// is one straight segment: snapping and drawing need no extra geometry, and contraction removes the degree-2
/// chains from query cost anyway.
///
/// Turn restrictions (`type=restriction`, via a node) are modeled by **splitting the via node**: for each
/// restricted incoming edge `u→v`, a copy `v'` of `v` gets only the outgoing edges the restriction allows, and
/// `u→v` is redirected to `v'`. The result is an ordinary node-based graph, so plain Dijkstra on the exported
/// graph, contraction and snapping all honor restrictions with no turn tables. Restrictions via ways are skipped
/// and counted.
public enum OSMImporter {
    /// Imports `path` with `profile`; `progress` receives human-readable lines (for stderr).
    public static func importGraph(path: String, profile: any WayRules = CarProfile(),
                                   progress: ((String) -> Void)? = nil) throws(RoutingError) -> (RoadGraph, ImportSummary) {
        var collector = Collector(profile: profile)
        var lastReported = -1
        let counts = try PBFReader.read(path: path, into: &collector) { done, total in
            let pct = total > 0 ? done * 100 / total : 100
            if pct / 10 != lastReported / 10 { lastReported = pct; progress?("read \(pct)%") }
        }
        var summary = ImportSummary()
        summary.nodesRead = counts.nodes
        summary.waysRead = counts.ways
        summary.relationsRead = counts.relations
        summary.routableWays = collector.ways.count
        progress?("read \(counts.nodes) nodes, \(counts.ways) ways, \(counts.relations) relations; \(collector.ways.count) routable ways")
        let graph = build(collector, summary: &summary)
        progress?("graph: \(summary.graphNodes) nodes, \(summary.graphEdges) edges, \(summary.droppedNodes) nodes dropped outside the largest component")
        return (graph, summary)
    }

    struct RoutableWay {
        var id: Int64
        var refs: [Int64]
        var rule: WayRule
    }

    struct Restriction {
        var fromWay: Int64
        var viaNode: Int64
        var toWay: Int64
        var only: Bool
    }

    struct Collector: OSMVisitor {
        let profile: any WayRules
        var nodeIndex: [Int64: Int32] = [:]
        var lat: [Double] = []
        var lng: [Double] = []
        var ways: [RoutableWay] = []
        var restrictions: [Restriction] = []
        var skippedRestrictions = 0

        init(profile: any WayRules) { self.profile = profile }

        mutating func node(id: Int64, latDegrees: Double, lngDegrees: Double) {
            nodeIndex[id] = Int32(lat.count)
            lat.append(latDegrees)
            lng.append(lngDegrees)
        }

        mutating func way(id: Int64, tags: [String: String], refs: [Int64]) {
            guard refs.count >= 2, let rule = profile.rule(for: tags) else { return }
            ways.append(RoutableWay(id: id, refs: refs, rule: rule))
        }

        mutating func relation(id: Int64, tags: [String: String], members: [OSMMember]) {
            guard let type = tags["type"], profile.restrictionTypes.contains(type) else { return }
            // The profile picks the value that binds its mode (nil: an exception for it, or a mode turn bans ignore).
            guard let value = profile.restrictionValue(tags), value.hasPrefix("no_") || value.hasPrefix("only_") else {
                skippedRestrictions += 1
                return
            }
            // A ban for some hours or days only (`day_on`/`hour_on`, the old scheme): applying it always would forbid
            // the turn the rest of the week, so it is skipped like Valhalla without a departure time.
            if tags["day_on"] != nil || tags["day_off"] != nil || tags["hour_on"] != nil || tags["hour_off"] != nil {
                skippedRestrictions += 1
                return
            }
            let from = members.filter { $0.role == "from" && $0.kind == .way }
            let via = members.filter { $0.role == "via" }
            let to = members.filter { $0.role == "to" && $0.kind == .way }
            guard from.count == 1, to.count == 1, via.count == 1, via[0].kind == .node else { skippedRestrictions += 1; return }
            restrictions.append(Restriction(fromWay: from[0].id, viaNode: via[0].id, toWay: to[0].id, only: value.hasPrefix("only_")))
        }
    }

    /// A directed edge during construction; `origin` identifies the edge it was copied from (itself if original).
    struct WorkEdge {
        var tail: Int32
        var head: Int32
        var durationMs: UInt32
        var lengthMeters: Double
        var wayId: Int64
        var origin: Int32
        /// The way's `WayRule.roadClassRank`.
        var roadClassRank: UInt8 = 0
        /// Turn penalty charged on this edge (already part of `durationMs` once `applyTurnCosts` ran).
        var turnPenaltyMs: UInt32 = 0
    }

    static func build(_ c: Collector, summary: inout ImportSummary) -> RoadGraph {
        // 1. Graph nodes: every node of a routable way, in first-seen order.
        var graphIndex: [Int64: Int32] = [:]
        var lat: [Double] = [], lng: [Double] = [], osm: [Int64] = []
        var edges: [WorkEdge] = []
        for way in c.ways {
            var previous: (id: Int64, index: Int32, fileIndex: Int32)?
            for ref in way.refs {
                guard let fileIndex = c.nodeIndex[ref] else { summary.missingNodeRefs += 1; previous = nil; continue }
                let index: Int32
                if let existing = graphIndex[ref] { index = existing } else {
                    index = Int32(lat.count)
                    graphIndex[ref] = index
                    lat.append(c.lat[Int(fileIndex)]); lng.append(c.lng[Int(fileIndex)]); osm.append(ref)
                }
                if let p = previous, p.index != index {
                    let length = Geodesy.distanceMeters(LatLng(degrees: c.lat[Int(p.fileIndex)], c.lng[Int(p.fileIndex)]),
                                                        LatLng(degrees: c.lat[Int(fileIndex)], c.lng[Int(fileIndex)]))
                    if let kmh = way.rule.forwardKmh {
                        edges.append(WorkEdge(tail: p.index, head: index, durationMs: durationMs(length, kmh), lengthMeters: length,
                                              wayId: way.id, origin: Int32(edges.count), roadClassRank: way.rule.roadClassRank))
                    }
                    if let kmh = way.rule.backwardKmh {
                        edges.append(WorkEdge(tail: index, head: p.index, durationMs: durationMs(length, kmh), lengthMeters: length,
                                              wayId: way.id, origin: Int32(edges.count), roadClassRank: way.rule.roadClassRank))
                    }
                }
                previous = (ref, index, fileIndex)
            }
        }
        summary.restrictionsSkipped = c.skippedRestrictions

        // 2. Turn restrictions by via-node splitting.
        applyRestrictions(c.restrictions, graphIndex: graphIndex, lat: &lat, lng: &lng, osm: &osm, edges: &edges, summary: &summary)

        // 2b. Turn costs by junction splitting (car): after the bans, so a ban's copy is charged like any approach.
        if let costs = c.profile.turnCosts {
            applyTurnCosts(costs, lat: &lat, lng: &lng, osm: &osm, edges: &edges, summary: &summary)
        }

        // 3. Keep the largest strongly connected component.
        let n = lat.count
        let component = largestSCC(nodeCount: n, edges: edges)
        // 4. Renumber kept nodes in a space-filling (Z-order) sequence so nearby nodes sit nearby in memory.
        var kept = (0..<n).filter { component[$0] }
        let minLat = lat.min() ?? 0, minLng = lng.min() ?? 0
        func zKey(_ v: Int) -> UInt64 {
            let x = UInt64(max(0, min(65535, (lng[v] - minLng) * 20_000)))
            let y = UInt64(max(0, min(65535, (lat[v] - minLat) * 20_000)))
            var key: UInt64 = 0
            for bit in 0..<16 { key |= ((x >> UInt64(bit)) & 1) << UInt64(2 * bit) | ((y >> UInt64(bit)) & 1) << UInt64(2 * bit + 1) }
            return key
        }
        kept.sort { (zKey($0), $0) < (zKey($1), $1) }
        var newIndex = [Int32](repeating: -1, count: n)
        for (i, v) in kept.enumerated() { newIndex[v] = Int32(i) }
        summary.droppedNodes = n - kept.count
        var tails: [UInt32] = [], heads: [UInt32] = [], durations: [UInt32] = [], lengths: [Double] = []
        var penalties: [UInt8] = []
        for e in edges {
            let t = newIndex[Int(e.tail)], h = newIndex[Int(e.head)]
            guard t >= 0, h >= 0 else { continue }
            tails.append(UInt32(t)); heads.append(UInt32(h)); durations.append(e.durationMs); lengths.append(e.lengthMeters)
            penalties.append(RoadGraph.turnPenaltyUnits(e.turnPenaltyMs))
        }
        summary.graphNodes = kept.count
        summary.graphOSMNodes = Set(kept.map { osm[$0] }).count
        summary.graphEdges = tails.count
        return RoadGraph.build(latDegrees: kept.map { lat[$0] }, lngDegrees: kept.map { lng[$0] }, osmNodeIds: kept.map { osm[$0] },
                               tails: tails, heads: heads, durationsMs: durations, lengthsMeters: lengths, turnPenaltyUnits: penalties)
    }

    /// Milliseconds to drive `meters` at `kmh`, at least 1 and at most `UInt32.max` (49 days): two way nodes 4,000 km
    /// apart at a posted 1 km/h (3 km/h after the profile's floor) would not fit, and the conversion would trap.
    static func durationMs(_ meters: Double, _ kmh: Double) -> UInt32 {
        UInt32(min(Double(UInt32.max), max(1, (meters / (kmh / 3.6) * 1000).rounded())))
    }

    static func applyRestrictions(_ restrictions: [Restriction], graphIndex: [Int64: Int32],
                                  lat: inout [Double], lng: inout [Double], osm: inout [Int64],
                                  edges: inout [WorkEdge], summary: inout ImportSummary) {
        // Original edges by via node, found once before any edge is copied.
        var incoming: [Int32: [Int32]] = [:], outgoing: [Int32: [Int32]] = [:]
        let viaSet = Set(restrictions.compactMap { graphIndex[$0.viaNode] })
        for (i, e) in edges.enumerated() {
            if viaSet.contains(e.head) { incoming[e.head, default: []].append(Int32(i)) }
            if viaSet.contains(e.tail) { outgoing[e.tail, default: []].append(Int32(i)) }
        }
        // Group restrictions by (via, from-edge): each group yields one copy of the via node.
        struct Group { var via: Int32; var fromEdge: Int32; var only: Set<Int32>?; var banned: Set<Int32> = [] }
        var groups: [Int64: Group] = [:]
        var order: [Int64] = []
        for r in restrictions {
            guard let via = graphIndex[r.viaNode] else { summary.restrictionsSkipped += 1; continue }
            let fromEdges = (incoming[via] ?? []).filter { edges[Int($0)].wayId == r.fromWay }
            let toEdges = Set((outgoing[via] ?? []).filter { edges[Int($0)].wayId == r.toWay })
            guard !fromEdges.isEmpty, !toEdges.isEmpty else { summary.restrictionsSkipped += 1; continue }
            summary.restrictionsApplied += 1
            for f in fromEdges {
                var toEdges = toEdges
                if r.fromWay == r.toWay {
                    // Same way (no_u_turn, only_straight_on): the turn in question is the one back where we came from.
                    let back = toEdges.filter { edges[Int($0)].head == edges[Int(f)].tail }
                    toEdges = r.only ? toEdges.subtracting(back) : Set(back)
                    if toEdges.isEmpty && !r.only { continue }
                }
                let key = Int64(via) << 32 | Int64(f)
                if groups[key] == nil { groups[key] = Group(via: via, fromEdge: f, only: nil); order.append(key) }
                if r.only { groups[key]!.only = groups[key]!.only.map { $0.intersection(toEdges) } ?? toEdges }
                else { groups[key]!.banned.formUnion(toEdges) }
            }
        }
        for key in order {
            let g = groups[key]!
            let copy = Int32(lat.count)
            lat.append(lat[Int(g.via)]); lng.append(lng[Int(g.via)]); osm.append(osm[Int(g.via)])
            // The copy keeps the allowed edges leaving the original via node, and copies made of them earlier.
            let allowedOrigins = Set((outgoing[g.via] ?? []).filter { o in
                !g.banned.contains(o) && (g.only?.contains(o) ?? true)
            })
            let count = edges.count
            for i in 0..<count where edges[i].tail == g.via && allowedOrigins.contains(edges[i].origin) {
                var e = edges[i]
                e.tail = copy
                edges.append(e)
            }
            // Every edge descended from the restricted from-edge now enters the copy.
            for i in 0..<edges.count where edges[i].head == g.via && edges[i].origin == g.fromEdge {
                edges[i].head = copy
            }
        }
    }

    /// Marks the nodes of the largest strongly connected component (iterative Tarjan).
    static func largestSCC(nodeCount n: Int, edges: [WorkEdge]) -> [Bool] {
        var offsets = [Int](repeating: 0, count: n + 1)
        for e in edges { offsets[Int(e.tail) + 1] += 1 }
        for v in 0..<n { offsets[v + 1] += offsets[v] }
        var adj = [Int32](repeating: 0, count: edges.count)
        var cursor = offsets
        for e in edges { adj[cursor[Int(e.tail)]] = e.head; cursor[Int(e.tail)] += 1 }

        var index = [Int32](repeating: -1, count: n), low = [Int32](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var comp = [Int32](repeating: -1, count: n)
        var stack: [Int32] = [], callStack: [(v: Int32, next: Int)] = []
        var counter: Int32 = 0, compCount: Int32 = 0
        var bestComp: Int32 = -1, bestSize = 0
        for root in 0..<n where index[root] < 0 {
            callStack.append((Int32(root), offsets[root]))
            index[root] = counter; low[root] = counter; counter += 1
            stack.append(Int32(root)); onStack[root] = true
            while !callStack.isEmpty {
                let (v, next) = callStack[callStack.count - 1]
                let vi = Int(v)
                if next < offsets[vi + 1] {
                    callStack[callStack.count - 1].next = next + 1
                    let w = Int(adj[next])
                    if index[w] < 0 {
                        index[w] = counter; low[w] = counter; counter += 1
                        stack.append(Int32(w)); onStack[w] = true
                        callStack.append((Int32(w), offsets[w]))
                    } else if onStack[w] {
                        low[vi] = min(low[vi], index[w])
                    }
                } else {
                    callStack.removeLast()
                    if let parent = callStack.last { low[Int(parent.v)] = min(low[Int(parent.v)], low[vi]) }
                    if low[vi] == index[vi] {
                        var size = 0
                        while true {
                            let w = Int(stack.removeLast())
                            onStack[w] = false
                            comp[w] = compCount
                            size += 1
                            if w == vi { break }
                        }
                        if size > bestSize { bestSize = size; bestComp = compCount }
                        compCount += 1
                    }
                }
            }
        }
        return comp.map { $0 == bestComp }
    }
}

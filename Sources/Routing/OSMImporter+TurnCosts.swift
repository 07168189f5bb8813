extension OSMImporter {
    /// Builds turn penalties into the graph by splitting junctions, so it stays node-based (see docs/routing.md,
    /// "Turn costs").
    ///
    /// A node is a *junction* when its edges reach at least three distinct OSM nodes, and it is *charged* when one of
    /// its edges has road class rank `costs.maxRoadClassRank` or better. The edges entering a charged junction `v` are
    /// grouped by *approach* (the OSM node they come from; a ban's copies of that node come from the same place). The
    /// first approach keeps `v`; every other approach gets a copy of `v` with a copy of each edge leaving `v`. Each
    /// edge leaving `v` or a copy then carries the penalty of the turn from that node's approach onto it, added to its
    /// duration, so Dijkstra, the hierarchy and the exported CSV all charge the same turns. Junction nodes of degree
    /// two (bends) and uncharged junctions pay nothing.
    ///
    /// Runs after `applyRestrictions`: a restriction's copy `v'` is a node of its own with one approach, charged in
    /// place, and the edges a ban removed stay absent from every copy.
    static func applyTurnCosts(_ costs: TurnCosts, lat: inout [Double], lng: inout [Double], osm: inout [Int64],
                               edges: inout [WorkEdge], summary: inout ImportSummary) {
        let n = lat.count
        var outgoing = [[Int32]](repeating: [], count: n), incoming = [[Int32]](repeating: [], count: n)
        for (i, e) in edges.enumerated() {
            outgoing[Int(e.tail)].append(Int32(i))
            incoming[Int(e.head)].append(Int32(i))
        }
        // Per split node: (approach OSM id, node that approach enters); the first approach keeps the node itself.
        var approachNode: [Int32: [(osm: Int64, node: Int32)]] = [:]
        var charged: [Int] = []
        for v in 0..<n {
            var neighbours = Set<Int64>(), major = Set<Int64>()
            for i in outgoing[v] {
                let e = edges[Int(i)]
                neighbours.insert(osm[Int(e.head)])
                if e.roadClassRank <= costs.maxRoadClassRank { major.insert(osm[Int(e.head)]) }
            }
            for i in incoming[v] {
                let e = edges[Int(i)]
                neighbours.insert(osm[Int(e.tail)])
                if e.roadClassRank <= costs.maxRoadClassRank { major.insert(osm[Int(e.tail)]) }
            }
            guard neighbours.count >= 3, major.count >= costs.minMajorNeighbours, !incoming[v].isEmpty, !outgoing[v].isEmpty else { continue }
            summary.turnCostJunctions += 1
            charged.append(v)
            var approaches: [(osm: Int64, tail: Int32)] = []
            for i in incoming[v] {
                let tail = edges[Int(i)].tail
                if !approaches.contains(where: { $0.osm == osm[Int(tail)] }) { approaches.append((osm[Int(tail)], tail)) }
            }
            let leaving = outgoing[v].map { (index: $0, edge: edges[Int($0)]) }   // before any penalty is added
            var entries: [(osm: Int64, node: Int32)] = []
            for (k, approach) in approaches.enumerated() {
                let node: Int32
                if k == 0 { node = Int32(v) } else {
                    node = Int32(lat.count)
                    lat.append(lat[v]); lng.append(lng[v]); osm.append(osm[v])
                    summary.turnCostCopies += 1
                }
                entries.append((approach.osm, node))
                let from = (lat: lat[Int(approach.tail)], lng: lng[Int(approach.tail)]), at = (lat: lat[v], lng: lng[v])
                for (i, original) in leaving {
                    var e = original
                    let head = Int(e.head)
                    let degrees = TurnCosts.turnDegrees(from, at, (lat: lat[head], lng: lng[head]))
                    let penalty = costs.penaltyMs(turnDegrees: degrees, uTurn: osm[head] == approach.osm)
                    e.turnPenaltyMs = penalty
                    e.durationMs = adding(e.durationMs, penalty)
                    if k == 0 { edges[Int(i)] = e } else { e.tail = node; edges.append(e) }
                }
            }
            if approaches.count > 1 { approachNode[Int32(v)] = entries }
        }
        // Every edge into a split junction now enters the node of its approach (copies made above included: their
        // tails keep their original's OSM id, so they find the same approach).
        for i in 0..<edges.count {
            guard let entries = approachNode[edges[i].head] else { continue }
            let from = osm[Int(edges[i].tail)]
            if let entry = entries.first(where: { $0.osm == from }) { edges[i].head = entry.node }
        }
        if costs.guardMs > 0 {
            addUTurnGuards(from: charged, guardMs: costs.guardMs, lat: &lat, lng: &lng, osm: &osm, edges: &edges, summary: &summary)
        }
    }

    /// Closes the back door a partial expansion opens: with a junction split by approach, a route could leave it
    /// straight on, turn back at the next node of the road (a bend, where turning is free) and re-enter the junction
    /// from the other side, dodging a left turn or the U-turn penalty. For each two-way road leaving a charged
    /// junction, the bends within `guardMs` of free-flow driving get a copy entered only from the junction's side,
    /// which can go on but not turn back; turning back is then possible only past the guard, at a cost of at least
    /// twice `guardMs`. Each guard adds one node and one edge.
    static func addUTurnGuards(from charged: [Int], guardMs: UInt32, lat: inout [Double], lng: inout [Double],
                               osm: inout [Int64], edges: inout [WorkEdge], summary: inout ImportSummary) {
        let count = lat.count
        var outgoing = [[Int32]](repeating: [], count: count), incoming = [[Int32]](repeating: [], count: count)
        var copiesOfOsm: [Int64: Int] = [:]
        for v in 0..<count { copiesOfOsm[osm[v], default: 0] += 1 }
        for (i, e) in edges.enumerated() {
            outgoing[Int(e.tail)].append(Int32(i))
            incoming[Int(e.head)].append(Int32(i))
        }
        // A bend: one graph node for its OSM node, two-way to exactly two neighbours, one edge to each.
        func bendExit(_ v: Int, from previous: Int64) -> Int32? {
            guard v < count, copiesOfOsm[osm[v]] == 1, outgoing[v].count == 2 else { return nil }
            let a = edges[Int(outgoing[v][0])], b = edges[Int(outgoing[v][1])]
            let headA = osm[Int(a.head)], headB = osm[Int(b.head)]
            guard headA != headB, headA == previous || headB == previous else { return nil }
            guard incoming[v].allSatisfy({ osm[Int(edges[Int($0)].tail)] == headA || osm[Int(edges[Int($0)].tail)] == headB }) else { return nil }
            return headA == previous ? outgoing[v][1] : outgoing[v][0]
        }
        var guarded = Set<Int64>()   // (node << 1 | side) pairs already guarded
        for v in charged {
            for exit in outgoing[v] {
                var previous = osm[v], current = Int(edges[Int(exit)].head), elapsed: UInt32 = 0
                while let forward = bendExit(current, from: previous) {
                    let key = Int64(current) << 1 | (osm[Int(edges[Int(forward)].head)] < previous ? 1 : 0)
                    guard guarded.insert(key).inserted else { break }
                    let guardNode = Int32(lat.count)
                    lat.append(lat[current]); lng.append(lng[current]); osm.append(osm[current])
                    summary.turnCostCopies += 1
                    var onward = edges[Int(forward)]
                    onward.tail = guardNode
                    edges.append(onward)
                    incoming[Int(onward.head)].append(Int32(edges.count - 1))
                    for i in incoming[current] where edges[Int(i)].head == Int32(current) && osm[Int(edges[Int(i)].tail)] == previous {
                        edges[Int(i)].head = guardNode
                    }
                    elapsed = adding(elapsed, onward.durationMs)
                    if elapsed >= guardMs { break }
                    previous = osm[current]
                    current = Int(onward.head)
                }
            }
        }
    }

    /// `a + b` milliseconds, saturating at `UInt32.max` (a weight never wraps to a small one).
    static func adding(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}

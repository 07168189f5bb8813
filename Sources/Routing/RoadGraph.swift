import HexGeo
import Vocabulary

/// The road graph before contraction: nodes with positions and directed edges in CSR arrays, both directions.
///
/// Forward CSR: the edges leaving node `u` are `forwardOffsets[u] ..< forwardOffsets[u + 1]`, each with a head,
/// a duration in milliseconds (integer, so sums are exact and every algorithm agrees to the last digit) and a
/// length in meters. Backward CSR lists, per node, the edges entering it as (tail, forward edge index).
///
/// An immutable view over a `ByteRegion` (memory-mapped file or packed build output).
/// `@unchecked Sendable`: every buffer points into the region this object retains and nothing writes to it.
public final class RoadGraph: @unchecked Sendable {
    /// Number of sections a graph occupies in a file (one fewer in version 1 files, which have no turn penalties).
    static let sectionCount = 11

    let region: ByteRegion
    /// Latitude of each node in degrees.
    public let latDegrees: UnsafeBufferPointer<Double>
    /// Longitude of each node in degrees.
    public let lngDegrees: UnsafeBufferPointer<Double>
    /// The OSM node id each graph node came from (copies made for turn restrictions share their original's id).
    public let osmNodeIds: UnsafeBufferPointer<Int64>
    /// CSR offsets of outgoing edges (`nodeCount + 1`).
    public let forwardOffsets: UnsafeBufferPointer<UInt32>
    /// Head (target) of each edge.
    public let forwardHeads: UnsafeBufferPointer<UInt32>
    /// Free-flow duration of each edge, in milliseconds.
    public let durationsMs: UnsafeBufferPointer<UInt32>
    /// Length of each edge, in meters.
    public let lengthsMeters: UnsafeBufferPointer<Double>
    /// CSR offsets of incoming edges (`nodeCount + 1`).
    public let backwardOffsets: UnsafeBufferPointer<UInt32>
    /// Tail (source) of each incoming edge.
    public let backwardTails: UnsafeBufferPointer<UInt32>
    /// Forward edge index of each incoming edge.
    public let backwardEdges: UnsafeBufferPointer<UInt32>
    /// The turn penalty included in each edge's duration, in units of `turnPenaltyUnitMs`: the cost of turning onto
    /// it from the approach its tail stands for (`TurnCosts`); 0 where no turn is charged. One byte per edge keeps the
    /// graph's memory budget (docs/routing.md, "Turn costs"). Read it with `turnPenaltyMs(_:)`.
    let turnPenaltyUnits: UnsafeBufferPointer<UInt8>?
    /// Milliseconds per unit of `turnPenaltyUnits` (so penalties are multiples of 0.2 s, at most 51 s).
    public static let turnPenaltyUnitMs: UInt32 = 200

    /// Number of nodes.
    public var nodeCount: Int { latDegrees.count }
    /// Number of directed edges.
    public var edgeCount: Int { forwardHeads.count }

    init(region: ByteRegion, sections s: ArraySlice<UnsafeRawBufferPointer>) throws(RoutingError) {
        guard s.count == Self.sectionCount || s.count == Self.sectionCount - 1 else {
            throw RoutingError(.corrupt, "graph needs \(Self.sectionCount) sections, found \(s.count)")
        }
        let i = s.startIndex
        self.region = region
        latDegrees = try ByteRegion.typed(s[i], Double.self, name: "lat")
        let n = latDegrees.count
        lngDegrees = try ByteRegion.typed(s[i + 1], Double.self, count: n, name: "lng")
        osmNodeIds = try ByteRegion.typed(s[i + 2], Int64.self, count: n, name: "osm_ids")
        forwardOffsets = try ByteRegion.typed(s[i + 3], UInt32.self, count: n + 1, name: "fwd_offsets")
        forwardHeads = try ByteRegion.typed(s[i + 4], UInt32.self, name: "fwd_heads")
        let m = forwardHeads.count
        durationsMs = try ByteRegion.typed(s[i + 5], UInt32.self, count: m, name: "durations")
        lengthsMeters = try ByteRegion.typed(s[i + 6], Double.self, count: m, name: "lengths")
        backwardOffsets = try ByteRegion.typed(s[i + 7], UInt32.self, count: n + 1, name: "bwd_offsets")
        backwardTails = try ByteRegion.typed(s[i + 8], UInt32.self, count: m, name: "bwd_tails")
        backwardEdges = try ByteRegion.typed(s[i + 9], UInt32.self, count: m, name: "bwd_edges")
        turnPenaltyUnits = s.count > 10 ? try ByteRegion.typed(s[i + 10], UInt8.self, count: m, name: "turn_penalties") : nil
        try Self.checkCSR(forwardOffsets, targets: forwardHeads, nodeCount: n, name: "forward")
        try Self.checkCSR(backwardOffsets, targets: backwardTails, nodeCount: n, name: "backward")
        for e in backwardEdges where Int(e) >= m { throw RoutingError(.corrupt, "backward edge index \(e) ≥ \(m)") }
        // Snapping and drawing turn coordinates into grid cells (a NaN trapped there), and routes sum lengths.
        for v in 0..<n where !(abs(latDegrees[v]) <= 90 && abs(lngDegrees[v]) <= 180) {
            throw RoutingError(.corrupt, "node \(v) lies at (\(latDegrees[v]), \(lngDegrees[v])), not on the globe")
        }
        for e in 0..<m where !(lengthsMeters[e] >= 0 && lengthsMeters[e].isFinite) {
            throw RoutingError(.corrupt, "edge \(e) has length \(lengthsMeters[e]) m")
        }
        if let turnPenaltyUnits {
            for e in 0..<m where UInt32(turnPenaltyUnits[e]) * Self.turnPenaltyUnitMs > durationsMs[e] {
                throw RoutingError(.corrupt, "edge \(e) has a turn penalty above its duration")
            }
        }
    }

    static func checkCSR(_ offsets: UnsafeBufferPointer<UInt32>, targets: UnsafeBufferPointer<UInt32>, nodeCount n: Int,
                         name: String) throws(RoutingError) {
        guard offsets.first == 0, Int(offsets[n]) == targets.count else { throw RoutingError(.corrupt, "\(name) CSR offsets do not span the edges") }
        for v in 0..<n where offsets[v] > offsets[v + 1] { throw RoutingError(.corrupt, "\(name) CSR offsets decrease at node \(v)") }
        for t in targets where Int(t) >= n { throw RoutingError(.corrupt, "\(name) CSR names node \(t) of \(n)") }
    }

    /// Builds a graph from edge lists (any order); node arrays are indexed by node id.
    static func build(latDegrees: [Double], lngDegrees: [Double], osmNodeIds: [Int64],
                      tails: [UInt32], heads: [UInt32], durationsMs: [UInt32], lengthsMeters: [Double],
                      turnPenaltyUnits: [UInt8]? = nil) -> RoadGraph {
        let n = latDegrees.count, m = tails.count
        var offsets = [UInt32](repeating: 0, count: n + 1)
        for t in tails { offsets[Int(t) + 1] += 1 }
        for v in 0..<n { offsets[v + 1] += offsets[v] }
        var cursor = offsets
        var fHeads = [UInt32](repeating: 0, count: m), fDur = [UInt32](repeating: 0, count: m), fLen = [Double](repeating: 0, count: m)
        var fPen = [UInt8](repeating: 0, count: m)
        for e in 0..<m {
            let slot = Int(cursor[Int(tails[e])])
            cursor[Int(tails[e])] += 1
            fHeads[slot] = heads[e]; fDur[slot] = durationsMs[e]; fLen[slot] = lengthsMeters[e]
            if let turnPenaltyUnits { fPen[slot] = UInt8(min(UInt32(turnPenaltyUnits[e]), durationsMs[e] / Self.turnPenaltyUnitMs)) }
        }
        var bOffsets = [UInt32](repeating: 0, count: n + 1)
        for h in fHeads { bOffsets[Int(h) + 1] += 1 }
        for v in 0..<n { bOffsets[v + 1] += bOffsets[v] }
        var bCursor = bOffsets
        var bTails = [UInt32](repeating: 0, count: m), bEdges = [UInt32](repeating: 0, count: m)
        for u in 0..<n {
            for e in Int(offsets[u])..<Int(offsets[u + 1]) {
                let h = Int(fHeads[e])
                let slot = Int(bCursor[h])
                bCursor[h] += 1
                bTails[slot] = UInt32(u); bEdges[slot] = UInt32(e)
            }
        }
        let region = ByteRegion.pack([.f64(latDegrees), .f64(lngDegrees), .i64(osmNodeIds), .u32(offsets), .u32(fHeads),
                                      .u32(fDur), .f64(fLen), .u32(bOffsets), .u32(bTails), .u32(bEdges), .bytes(fPen)])
        // The sections were just packed from consistent arrays; a failure here is a bug in `build`.
        do { return try RoadGraph(region: region, sections: try region.sections()[...]) }
        catch { preconditionFailure("RoadGraph.build produced an invalid graph: \(error)") }
    }

    /// The turn penalty in milliseconds included in edge `e`'s duration (0 where no turn is charged).
    @inline(__always)
    public func turnPenaltyMs(_ e: Int) -> UInt32 { turnPenaltyUnits.map { UInt32($0[e]) * Self.turnPenaltyUnitMs } ?? 0 }

    /// `ms` as whole penalty units (the importer charges only multiples of `turnPenaltyUnitMs`), at most 255.
    static func turnPenaltyUnits(_ ms: UInt32) -> UInt8 { UInt8(min(255, ms / turnPenaltyUnitMs)) }

    /// For each edge, the first edge driving the same road: the same OSM nodes at both ends and the same length. Copies
    /// made for turn bans and turn costs share their road; every other edge is its own. O(edges), allocates.
    public func roadOfEdge() -> [Int32] {
        struct Road: Hashable { var tail: Int64, head: Int64, millimetres: Int64 }
        var first: [Road: Int32] = [:]
        var out = [Int32](repeating: 0, count: edgeCount)
        for u in 0..<nodeCount {
            for e in outgoing(u) {
                let road = Road(tail: osmNodeIds[u], head: osmNodeIds[Int(forwardHeads[e])], millimetres: Int64((lengthsMeters[e] * 1000).rounded()))
                if let f = first[road] { out[e] = f } else { first[road] = Int32(e); out[e] = Int32(e) }
            }
        }
        return out
    }

    /// The position of node `v`.
    @inlinable
    public func coordinate(_ v: Int) -> LatLng { LatLng(degrees: latDegrees[v], lngDegrees[v]) }

    /// The forward edge indices leaving `v`.
    @inlinable
    public func outgoing(_ v: Int) -> Range<Int> { Int(forwardOffsets[v])..<Int(forwardOffsets[v + 1]) }

    /// The cheapest edge from `u` to `v` under `weights`, or nil.
    func cheapestEdge(from u: Int, to v: Int, weights: UnsafeBufferPointer<UInt32>) -> Int? {
        var best: Int?
        for e in outgoing(u) where Int(forwardHeads[e]) == v {
            if best == nil || weights[e] < weights[best!] { best = e }
        }
        return best
    }

    /// Every directed edge as a road segment (tail and head positions), for drawing the network.
    ///
    /// Both directions of a two-way road are listed once: an edge is skipped when its reverse exists and has a
    /// smaller tail index.
    public func forEachSegment(_ body: (_ from: LatLng, _ to: LatLng) -> Void) {
        for u in 0..<nodeCount {
            for e in outgoing(u) {
                let v = Int(forwardHeads[e])
                if v < u, cheapestEdge(from: v, to: u, weights: durationsMs) != nil { continue }
                body(coordinate(u), coordinate(v))
            }
        }
    }
}

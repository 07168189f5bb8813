/// A contraction hierarchy (Geisberger, Sanders, Schultes, Delling 2008) over a `RoadGraph`'s node ids.
///
/// For each node `v`: **up arcs** `v→x` and **down arcs** (stored at `v`, naming `x`, meaning the arc `x→v`), both only
/// to higher-ranked `x`. A forward search climbs up arcs from the source, a backward search climbs down arcs from the
/// target, and they meet at the highest node of the shortest path. Each arc has a weight in milliseconds and, for a
/// shortcut, the contracted middle node (`noMiddle` for an original edge), which is enough to unpack paths.
///
/// Immutable and `Sendable`: share one across threads; each thread makes its own `CHQuery`.
/// `@unchecked`: every buffer points into the retained `ByteRegion`, which nothing writes after `init`.
public final class ContractionHierarchy: @unchecked Sendable {
    /// Number of sections a hierarchy occupies in a file.
    static let sectionCount = 9
    /// The `middle` value of an arc that is an original edge.
    public static let noMiddle = UInt32.max

    let region: ByteRegion
    /// Contraction rank of each node (0 = contracted first).
    public let rank: UnsafeBufferPointer<UInt32>
    let upOffsets: UnsafeBufferPointer<UInt32>
    let upHeads: UnsafeBufferPointer<UInt32>
    let upWeights: UnsafeBufferPointer<UInt32>
    let upMiddles: UnsafeBufferPointer<UInt32>
    let downOffsets: UnsafeBufferPointer<UInt32>
    let downHeads: UnsafeBufferPointer<UInt32>
    let downWeights: UnsafeBufferPointer<UInt32>
    let downMiddles: UnsafeBufferPointer<UInt32>

    /// Number of nodes.
    public var nodeCount: Int { rank.count }
    /// Number of arcs (up and down, shortcuts included).
    public var arcCount: Int { upHeads.count + downHeads.count }

    init(region: ByteRegion, sections s: ArraySlice<UnsafeRawBufferPointer>, nodeCount n: Int) throws(RoutingError) {
        guard s.count == Self.sectionCount else { throw RoutingError(.corrupt, "hierarchy needs \(Self.sectionCount) sections, found \(s.count)") }
        let i = s.startIndex
        self.region = region
        rank = try ByteRegion.typed(s[i], UInt32.self, count: n, name: "rank")
        upOffsets = try ByteRegion.typed(s[i + 1], UInt32.self, count: n + 1, name: "up_offsets")
        upHeads = try ByteRegion.typed(s[i + 2], UInt32.self, name: "up_heads")
        upWeights = try ByteRegion.typed(s[i + 3], UInt32.self, count: upHeads.count, name: "up_weights")
        upMiddles = try ByteRegion.typed(s[i + 4], UInt32.self, count: upHeads.count, name: "up_middles")
        downOffsets = try ByteRegion.typed(s[i + 5], UInt32.self, count: n + 1, name: "down_offsets")
        downHeads = try ByteRegion.typed(s[i + 6], UInt32.self, name: "down_heads")
        downWeights = try ByteRegion.typed(s[i + 7], UInt32.self, count: downHeads.count, name: "down_weights")
        downMiddles = try ByteRegion.typed(s[i + 8], UInt32.self, count: downHeads.count, name: "down_middles")
        try RoadGraph.checkCSR(upOffsets, targets: upHeads, nodeCount: n, name: "up")
        try RoadGraph.checkCSR(downOffsets, targets: downHeads, nodeCount: n, name: "down")
        for r in rank where Int(r) >= n { throw RoutingError(.corrupt, "rank \(r) ≥ node count \(n)") }
        for v in 0..<n {
            for a in up(v) where rank[Int(upHeads[a])] <= rank[v] || (upMiddles[a] != Self.noMiddle && Int(upMiddles[a]) >= n) {
                throw RoutingError(.corrupt, "up arc \(v)→\(upHeads[a]) does not climb or names a bad middle node")
            }
            for a in down(v) where rank[Int(downHeads[a])] <= rank[v] || (downMiddles[a] != Self.noMiddle && Int(downMiddles[a]) >= n) {
                throw RoutingError(.corrupt, "down arc \(downHeads[a])→\(v) does not climb or names a bad middle node")
            }
        }
        // Every shortcut must unpack (`unpack` finds its halves or traps), so a file that loads is safe to route on.
        for v in 0..<n {
            for a in up(v) where upMiddles[a] != Self.noMiddle && !hasHalves(from: v, via: Int(upMiddles[a]), to: Int(upHeads[a])) {
                throw RoutingError(.corrupt, "shortcut \(v)→\(upHeads[a]) via \(upMiddles[a]) has no arcs to unpack into")
            }
            for a in down(v) where downMiddles[a] != Self.noMiddle && !hasHalves(from: Int(downHeads[a]), via: Int(downMiddles[a]), to: v) {
                throw RoutingError(.corrupt, "shortcut \(downHeads[a])→\(v) via \(downMiddles[a]) has no arcs to unpack into")
            }
        }
    }

    /// Packs arrays built by `Contractor` into a hierarchy.
    static func pack(rank: [UInt32], up: [[(head: UInt32, weight: UInt32, middle: UInt32)]],
                     down: [[(head: UInt32, weight: UInt32, middle: UInt32)]]) -> ContractionHierarchy {
        func csr(_ lists: [[(head: UInt32, weight: UInt32, middle: UInt32)]]) -> ([UInt32], [UInt32], [UInt32], [UInt32]) {
            var offsets = [UInt32](repeating: 0, count: lists.count + 1)
            var heads: [UInt32] = [], weights: [UInt32] = [], middles: [UInt32] = []
            for (v, list) in lists.enumerated() {
                for a in list { heads.append(a.head); weights.append(a.weight); middles.append(a.middle) }
                offsets[v + 1] = UInt32(heads.count)
            }
            return (offsets, heads, weights, middles)
        }
        let u = csr(up), d = csr(down)
        let region = ByteRegion.pack([.u32(rank), .u32(u.0), .u32(u.1), .u32(u.2), .u32(u.3), .u32(d.0), .u32(d.1), .u32(d.2), .u32(d.3)])
        do { return try ContractionHierarchy(region: region, sections: try region.sections()[...], nodeCount: rank.count) }
        catch { preconditionFailure("Contractor produced an invalid hierarchy: \(error)") }
    }

    /// Arc indices of the up arcs of `v`.
    @inline(__always) func up(_ v: Int) -> Range<Int> { Int(upOffsets[v])..<Int(upOffsets[v + 1]) }
    /// Arc indices of the down arcs of `v`.
    @inline(__always) func down(_ v: Int) -> Range<Int> { Int(downOffsets[v])..<Int(downOffsets[v + 1]) }

    /// Whether shortcut `a→b` via `m` has the two arcs `unpack` replaces it with: `a→m` (a down arc stored at `m`)
    /// and `m→b` (an up arc of `m`).
    func hasHalves(from a: Int, via m: Int, to b: Int) -> Bool {
        down(m).contains { Int(downHeads[$0]) == a } && up(m).contains { Int(upHeads[$0]) == b }
    }

    /// Appends the original nodes of arc `a→b` (excluding `a`, including `b`) to `path`.
    func unpack(from a: Int, to b: Int, weight: UInt32, middle: UInt32, into path: inout [Int]) {
        guard middle != Self.noMiddle else { path.append(b); return }
        let m = Int(middle)
        // a→m: m is lower than a, so the arc is a down arc stored at m naming a.
        var first: (UInt32, UInt32)? = nil
        for i in down(m) where Int(downHeads[i]) == a && (first == nil || downWeights[i] < first!.0) {
            first = (downWeights[i], downMiddles[i])
        }
        // m→b: m is lower than b, so the arc is an up arc of m.
        var second: (UInt32, UInt32)? = nil
        for i in up(m) where Int(upHeads[i]) == b && (second == nil || upWeights[i] < second!.0) {
            second = (upWeights[i], upMiddles[i])
        }
        guard let first, let second else { preconditionFailure("shortcut \(a)→\(b) via \(m) lost a half") }
        unpack(from: a, to: m, weight: first.0, middle: first.1, into: &path)
        unpack(from: m, to: b, weight: second.0, middle: second.1, into: &path)
    }
}

import Foundation
import Testing
@testable import Routing

/// Fuzzing regression (docs/fuzzing.md, crash budget): a graph file whose shortcut names a middle node without the
/// two arcs it stands for loaded fine, then trapped in `unpack` ("lost a half") on the first route through it.
@Suite("Graph file shortcuts")
struct GraphFileShortcutTests {
    /// The hierarchy's arrays with one up shortcut's middle moved to a node that has no arcs to its ends.
    static func corruptedHierarchy(_ h: ContractionHierarchy) throws -> ByteRegion {
        let n = h.nodeCount
        var middles = Array(h.upMiddles)
        var corrupted = false
        search: for v in 0..<n {
            for a in h.up(v) where middles[a] != ContractionHierarchy.noMiddle {
                for m in 0..<n where !h.hasHalves(from: v, via: m, to: Int(h.upHeads[a])) {
                    middles[a] = UInt32(m)
                    corrupted = true
                    break search
                }
            }
        }
        try #require(corrupted, "the test graph has no up shortcut to corrupt")
        return ByteRegion.pack([.u32(Array(h.rank)), .u32(Array(h.upOffsets)), .u32(Array(h.upHeads)), .u32(Array(h.upWeights)),
                                .u32(middles), .u32(Array(h.downOffsets)), .u32(Array(h.downHeads)),
                                .u32(Array(h.downWeights)), .u32(Array(h.downMiddles))])
    }

    @Test("a shortcut without its two halves is refused at load as corrupt")
    func shortcutWithoutHalves() throws {
        let network = RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 12, rows: 12))
        let region = try Self.corruptedHierarchy(network.freeFlow.hierarchy)
        #expect(throws: RoutingError.self) {
            _ = try ContractionHierarchy(region: region, sections: try region.sections()[...], nodeCount: network.graph.nodeCount)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-shortcut-\(getpid()).hxg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ByteRegion.merge([network.graph.region, region]).write(to: path)
        do {
            _ = try RoadNetwork.load(path: path)
            Issue.record("a graph file with a broken shortcut loaded")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
            #expect(error.message.contains("shortcut"), "\(error)")
        }
        // The intact hierarchy still loads and routes.
        try network.save(to: path)
        var query = try RoadNetwork.load(path: path).makeQuery()
        #expect(try query.route(fromNode: 0, toNode: network.graph.nodeCount - 1) != nil)
    }
}

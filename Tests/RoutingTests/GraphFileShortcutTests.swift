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

/// Fuzzing regression (`scripts/fuzz graph`, its first finding): a graph file with a NaN coordinate loaded, then
/// trapped converting it to a snap-grid cell ("Double value cannot be converted to Int").
@Suite("Graph file coordinates")
struct GraphFileCoordinateTests {
    static func graphRegion(_ g: RoadGraph, lat: [Double], lengths: [Double]) -> ByteRegion {
        ByteRegion.pack([.f64(lat), .f64(Array(g.lngDegrees)), .i64(Array(g.osmNodeIds)), .u32(Array(g.forwardOffsets)),
                         .u32(Array(g.forwardHeads)), .u32(Array(g.durationsMs)), .f64(lengths),
                         .u32(Array(g.backwardOffsets)), .u32(Array(g.backwardTails)), .u32(Array(g.backwardEdges))])
    }

    @Test("NaN, infinite or off-globe coordinates and bad edge lengths are refused at load as corrupt",
          arguments: [("lat", Double.nan), ("lat", Double.infinity), ("lat", 91), ("length", Double.nan), ("length", -1)])
    func badValues(field: String, value: Double) throws {
        let network = RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 4, rows: 3))
        let g = network.graph
        var lat = Array(g.latDegrees), lengths = Array(g.lengthsMeters)
        if field == "lat" { lat[1] = value } else { lengths[2] = value }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-coords-\(getpid())-\(field).hxg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ByteRegion.merge([Self.graphRegion(g, lat: lat, lengths: lengths), network.freeFlow.hierarchy.region]).write(to: path)
        do {
            _ = try RoadNetwork.load(path: path)
            Issue.record("a graph file with \(field) = \(value) loaded")
        } catch {
            #expect(error.code == .corrupt, "\(error)")
        }
    }
}

import Foundation
import Testing
@testable import Routing
import Vocabulary

/// Fuzzing regression (docs/fuzzing.md, finding 3): a graph file found by the `graph` target whose few edges run
/// diagonally across the whole snap grid. The snap index listed each edge in every cell of its bounding box, up to
/// 4,096 × 4,096 cells an edge, so loading the file ran for minutes (libFuzzer's 30 s timeout). It now lists the
/// cells each segment crosses. The input is kept as found.
@Suite("Snap index: fuzzing regressions")
struct SnapIndexFuzzRegressionTests {
    static let gridLongDiagonals = "SFhSR1JBUEgBAAAAEwAAAEABAAAAAAAAIAAAAAAAAABgAQAAAAAAACAAAAAAAAAAgAEAAAAAAAAgAAAAAAAAAKABAAAAAAAAFAAAAAAAAAC4AQAAAAAAACAAAAAAAAAA2AEAAAAAAAAgAAAAAAAAAPgBAAAAAAAAQAAAAAAAAAA4AgAAAAAAABQAAAAAAAAAUAIAAAAAAAAgAAAAAAAAAHACAAAAAAAAIAAAAAAAAACQAgAAAAAAABAAAAAAAAAAoAIAAAAAAAAUAAAAAAAAALgCAAAAAAAAEAAAAAAAAADIAgAAAAAAABAAAAAAAAAA2AIAAAAAAAAQAAAAAAAAAOgCAAAAAAAAFAAAAAAAAAAAAwAAAAAAABAAAAAAAAAAEAMAAAAAAAAQAAAAAAAAACADAAAAAAAAEAAAAAAAAAAAAAAAAIBGQAAAAAAAgERAPysNeB2ARkA/Kw14doBGQAAAAAAFAOS/SIn7l00BHEAAAAAAAAAcQLd2BGhNARxAAAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAAwAAAAAAAAAAAAAAAgAAAAQAAAAGAAAACAAAAAAAAAABAAAAAgAAAAAAAAADAAAAAAAAAAMAAAABAAAAAgAAAHAXAABwFwAAcBcAAOw/AABwFwAALigAAOw/AAAuKAAAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAABgAAWUAAAAAAAABZQQAAAAACAAAABAAAAAYAAAAIAAAAAAAAAAEAAAACAAAAAAAAAAMAAAAAAAAAAwAAAAEAAAACAAAAAgAAAAQAAAAAAAAABgAAAAEAAAAHAAAAAwAAAAUAAAABAAAAAAAAAAMAAAACAAAAAAAAAAAAAAADAAAAAwAAAAQAAAAAAAAAAgAAAAAAAAADAAAAAgAAAHAXAABwFwAA7D8AAC4oAAD/////////////////////AAAAAAEAAAADAAAAAwAAAAQAAAAAAAAAAgAAAAAAAAADAAAAAgAAAHAXAABwFwAA7D8AAC4oAAD/////////////////////"

    @Test("a graph file whose edges cross the whole grid loads (or is refused) and snaps, instead of hanging")
    func gridLongDiagonals() throws {
        let bytes = try #require(Data(base64Encoded: Self.gridLongDiagonals))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-snap-fuzz-\(getpid()).hxg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let network: RoadNetwork
        do { network = try RoadNetwork.load(path: path) } catch { return }   // refusing it is fine too
        let g = network.graph
        // A segment crosses at most one cell per column plus one per row of the grid: an edge costs its length, never
        // the area of its bounding box (which for these edges is the whole grid).
        let cost = network.snapIndex.cost
        #expect(cost.columns * cost.rows > 1_000_000, "the input's edges span a large grid")
        #expect(cost.entries <= g.edgeCount * (cost.columns + cost.rows + 1), "\(cost.entries) entries for \(g.edgeCount) edges")
        // Every node snaps to a segment at (almost) no distance: the index still finds the edges it lists.
        for v in 0..<g.nodeCount where !g.outgoing(v).isEmpty {
            let snap = network.snapIndex.snap(LatLng(degrees: g.latDegrees[v], g.lngDegrees[v]))
            #expect(snap.map { $0.distanceMeters < 1 } ?? false, "node \(v)")
        }
    }

    /// Fuzzing regression (docs/fuzzing.md, finding 6): a `slow-unit` of the `graph` target, 12 s under ASan and
    /// coverage for a 2 KB file. A mutation moved one node of a 12-node grid to 2° N and a few others to 45° E, so
    /// the nodes spread over some 4,800 × 3,000 km; the index kept its 4,096-cell cap per side and made a 2,500 ×
    /// 4,001 grid, 10 million cells (two 40 MB offset arrays, counted and summed cell by cell) for 34 edges. Cells
    /// now grow until there are at most `SnapIndex.maxCells` (2^20 for a graph this small). The input is kept as found (also in Fuzz/corpus/graph).
    static let continentWideGrid =
        "SFhSR1JBUEgBAAAAEwAAAEABAAAAAAAAYAAAAAAAAACgAQAAAAAAAGAAAAAAAAAAAAIAAAAAAABgAAAAAAAAAGACAAAAAAAANAAAAAAAAACYAg" +
        "AAAAAAAIgAAAAAAAAAIAUAAAAAAACIAAAAAAAAAKgDAAAAAAAAEAEAAAAAAAC4BAAAAAAAADQAAAAAAAAA8AQAAAAAAACIAAAAAAAAAHgFAAAA" +
        "AAAAiAAAAAAAAAAABgAAAAAAADAAAAAAAAAAMAYAAAAAAAA0AAAAAAAAAGgGAAAAAAAATAAAAAAAAAC4BgAAAAAAAEwAAAAAAAAACAcAAAAAAA" +
        "BMAAAAAAAAAFgHAAAAAAAANAAAAAAAAACQBwAAAAAAAEwAAAAAAAAA4AcAAAAAAABMAAAAAAAAADAIAAAAAAAATAAAAAAAAAAAAABGgAAAQAAA" +
        "AAAAgEZAAAAAAACARkAAAAAAAIBGQD8rDXgdgEZAPysNeB2ARkA/Kw14HYBGQD8rDXgdgEZAf1Ya8DqARkB/VhrwOoBGQH9WGvA6gEZAf1Ya8D" +
        "qARkAAAAAAAAAcQLd2BGhNARxAbe0I0JqARkA/Kw14HYBGQD8rDXgdgEZAPysNeB2ARkB/VhrwOoBGQH9WGvA6gEZAf1Ya8DqARkB/VhrwOoBG" +
        "QAAAAAAAABxAt3YEaE0BHEBt7QjQAAAAAAEAAAAAAAAAAgAAAAAAAAADAAAAAAAAAAQAAAAAAAAABQAAAAAAAAAGAAAAAAAAAAcAAAAAAAAACA" +
        "AAAAAAAAAJAAAAAAAAAAoAAAAAAAAACwAAAAAAAAAAAAAAAgAAAAUAAAAIAAAACgAAAA0AAAARAAAAFQAAABgAAAAaAAAAHQAAACAAAAAiAAAA" +
        "AAAAAAEAAAAEAAAAAAAAAAIAAAAFAAAAAQAAAAMAAAAGAAAAAgAAAAcAAAAAAAAABQAAAAgAAAABAAAABAAAAAYAAAAJAAAAAgAAAAUAAAAHAA" +
        "AACgAAAAMAAAAGAAAACwAAAAQAAAAJAAAABQAAAAgAAAAKAAAABgAAAAkAAAALAAAABwAAAAoAAABwFwAAcBcAAHAXAABwFwAA7D8AAHAXAABw" +
        "FwAALigAAHAXAADyKwAAcBcAAFBGAABwFwAA7D8AAFBGAAAuKAAALigAAC4oAAAuKAAAXCkAAOAuAADyKwAAXCkAABY2AABwFwAAKCMAAC4oAA" +
        "AoIwAAFTQAAOAuAAAVNAAAAiUAABY2AAACJQAAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAA" +
        "WUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQA" +
        "AAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAA" +
        "AAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAABZQAAAAAAAAFlAAAAAAAAAWUAAAAAAAgAAAAUAAAAIAAAACgAAAA0AAAARAAAAFQ" +
        "AAABgAAAAaAAAAHQAAACAAAAAiAAAAAAAAAAEAAAAEAAAAAAAAAAIAAAAFAAAAAQAAAAMAAAAGAAAAAgAAAAcAAAAAAAAABQAAAAgAAAABAAAA" +
        "BAAAAAYAAAAJAAAAAgAAAAUAAAAHAAAACgAAAAMAAAAGAAAACwAAAAQAAAAJAAAABQAAAAgAAAAKAAAABgAAAAkAAAALAAAABwAAAAoAAAACAA" +
        "AACgAAAAAAAAAFAAAADQAAAAMAAAAIAAAAEQAAAAYAAAAVAAAAAQAAAA4AAAAYAAAABAAAAAsAAAASAAAAGgAAAAcAAAAPAAAAFgAAAB0AAAAJ" +
        "AAAAEwAAACAAAAAMAAAAGwAAABAAAAAZAAAAHgAAABQAAAAcAAAAIQAAABcAAAAfAAAABQAAAAgAAAAJAAAAAwAAAAQAAAAKAAAACwAAAAIAAA" +
        "AGAAAABwAAAAEAAAAAAAAAAAAAAAIAAAAEAAAABQAAAAYAAAAJAAAACgAAAAoAAAAMAAAADgAAAA8AAAARAAAAEwAAAAAAAAABAAAACAAAAAIA" +
        "AAAFAAAABgAAAAIAAAAAAAAABQAAAAgAAAAGAAAAAwAAAAYAAAAJAAAAAQAAAAUAAAAGAAAACQAAAAcAAAAKAAAAAAAAAHAXAADgLgAAcBcAAO" +
        "w/AAAuKAAAcBcAAHAXAABQRgAAcBcAAC4oAADyK1JhbmRvbU51bWJQRgAALigAAOAuAAAVMQAAFjYAAAIlAAAAAAAA/////wQAAAD/////////" +
        "/////////////////////////////////////////////////wAAAAD//////////////////////////wAAAAAAAAAAAgAAAAQAAAAFAAAABg" +
        "AAAAkAAAAKAAAACgAAAAwAAAAOAAAADwAAABEAAAATAAAAAAAAAAEAAAAIAAAAAgAAAAUAAAAGAAAAAgAAAAAAAAAFAAAACAAAAAYAAAADAAAA" +
        "BgAAAAkAAAABAAAABQAAAAYAAAAJAAAABwAAAAoAAAAAAAAAcBcAAOAuAABwFwAA7D8AAC4oAABwFwAAcBcAAFBGAABwFwAALigAAPIrAABcKQ" +
        "AAKCMAAFBGAAAuKAAA4C4AABU0AAAWNgAAAiUAAAAAAAD/////BAAAAP//////////////////////////////////////////////////////" +
        "////AAAAAP//////////////////////////AAAAAA=="

    @Test("a few edges spread over a continent get a grid sized to the edges, and still snap and route")
    func continentWideGrid() throws {
        let bytes = try #require(Data(base64Encoded: Self.continentWideGrid))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-snap-wide-\(getpid()).hxg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bytes.write(to: URL(fileURLWithPath: path))
        // The file is well formed (its hierarchy's weights are mutated, not its structure), so it loads.
        let network = try RoadNetwork.load(path: path)
        let g = network.graph
        let cost = network.snapIndex.cost
        #expect(cost.columns * cost.rows <= SnapIndex.maxCells(edges: g.edgeCount) + cost.columns + cost.rows + 1,
                "\(cost.columns) × \(cost.rows) cells for \(g.edgeCount) edges")
        #expect(cost.entries <= g.edgeCount * (cost.columns + cost.rows + 1))
        for v in 0..<g.nodeCount where !g.outgoing(v).isEmpty {
            let snap = network.snapIndex.snap(LatLng(degrees: g.latDegrees[v], g.lngDegrees[v]))
            #expect(snap.map { $0.distanceMeters < 1 } ?? false, "node \(v)")
        }
        // What the graph target runs on a file it accepts.
        var query = network.makeQuery()
        let n = g.nodeCount
        _ = try? query.route(fromNode: 0, toNode: n - 1)
        _ = query.matrixMs(sourceNodes: [0, n / 2], targetNodes: [n - 1])
        let p = g.coordinate(n / 2)
        _ = try? query.route(from: p, to: LatLng(degrees: p.latDegrees + 0.001, p.lngDegrees + 0.001))
    }
}

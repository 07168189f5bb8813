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
}

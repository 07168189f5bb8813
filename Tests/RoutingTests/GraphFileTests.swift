import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing

@Suite("Graph file")
struct GraphFileTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-routing-\(getpid())-\(name)").path
    }

    @Test("a saved graph loads by mmap with identical arrays and answers")
    func roundTrip() throws {
        let network = try Cities.network("helsinki")
        let path = Self.temporaryPath("roundtrip.hxg")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try network.save(to: path)
        let loaded = try RoadNetwork.open(path: path)
        let a = network.graph, b = loaded.graph
        #expect(a.nodeCount == b.nodeCount && a.edgeCount == b.edgeCount)
        #expect(Array(a.forwardHeads) == Array(b.forwardHeads))
        #expect(Array(a.durationsMs) == Array(b.durationsMs))
        #expect(Array(a.lengthsMeters) == Array(b.lengthsMeters))
        #expect(Array(a.latDegrees) == Array(b.latDegrees))
        #expect(Array(a.osmNodeIds) == Array(b.osmNodeIds))
        #expect(Array(network.freeFlow.hierarchy.rank) == Array(loaded.freeFlow.hierarchy.rank))
        var q1 = network.makeQuery(), q2 = loaded.makeQuery()
        var rng = SeededRandom(seed: 5)
        for _ in 0..<100 {
            let s = Int.random(in: 0..<a.nodeCount, using: &rng), t = Int.random(in: 0..<a.nodeCount, using: &rng)
            #expect(q1.durationMs(fromNode: s, toNode: t) == q2.durationMs(fromNode: s, toNode: t))
        }
    }

    @Test("open imports a PBF once and reuses the cached graph file")
    func openWithCache() throws {
        let cache = Self.temporaryPath("cache.hxg")
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let first = try RoadNetwork.open(path: Cities.path("helsinki"), cachePath: cache)
        #expect(first.importSummary != nil)
        let second = try RoadNetwork.open(path: Cities.path("helsinki"), cachePath: cache)
        #expect(second.importSummary == nil)   // came from the cache
        #expect(second.graph.edgeCount == first.graph.edgeCount)
        var segments = 0
        second.forEachRoadSegment { _, _ in segments += 1 }
        #expect(segments > 0 && segments <= second.graph.edgeCount)
    }

    @Test("truncated, wrong-magic and wrong-version files give clear typed errors")
    func badFiles() throws {
        let network = try Cities.network("helsinki")
        let good = Self.temporaryPath("good.hxg"), bad = Self.temporaryPath("bad.hxg")
        defer { try? FileManager.default.removeItem(atPath: good); try? FileManager.default.removeItem(atPath: bad) }
        try network.save(to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        func expectCode(_ data: Data, _ codes: [RoutingError.Code], _ what: String) throws {
            try data.write(to: URL(fileURLWithPath: bad))
            do { _ = try RoadNetwork.load(path: bad); Issue.record("\(what) loaded") }
            catch { #expect(codes.contains(error.code), "\(what): \(error)") }
        }
        for cut in [0, 10, 100, bytes.count / 2, bytes.count - 8] {
            try expectCode(bytes.prefix(cut), [.truncated, .corrupt], "file cut at \(cut)")
        }
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        try expectCode(wrongMagic, [.badMagic], "wrong magic")
        var wrongVersion = bytes
        wrongVersion[8] = 99
        try expectCode(wrongVersion, [.badVersion], "wrong version")
        // A head index pointing outside the graph is caught by validation.
        var corrupt = bytes
        let headsOffset = Int(corrupt.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16 + 16 * 4, as: UInt64.self) })
        corrupt.replaceSubrange(headsOffset..<headsOffset + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        try expectCode(corrupt, [.corrupt], "bad head index")
        do { _ = try RoadNetwork.load(path: Self.temporaryPath("missing.hxg")); Issue.record("missing file loaded") }
        catch { #expect(error.code == .io) }
    }
}

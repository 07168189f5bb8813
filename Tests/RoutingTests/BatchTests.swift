import Foundation
import HexGeo
import Testing
import TestSupport
@testable import Routing
import Vocabulary

@Suite("Batch line logic of route and matrix")
struct BatchTests {
    @Test("coordinate and node lines give distance_m,duration_s; bad lines name their number")
    func routeLines() throws {
        var query = try Cities.network("monaco").makeQuery()
        let input = ["43.7384,7.4246,43.7311,7.4197", "0,1", "43.7384,7.4246,43.7311,7.4197", "nonsense"]
        var out: [String] = []
        var i = 0
        do {
            try RoutingBatch.run(next: { i < input.count ? { i += 1; return input[i - 1] }() : nil }, emit: { out.append($0) }) {
                (line: String) throws(RoutingError) -> String in try RoutingBatch.routeCoordinatesLine(line, query: &query)
            }
            Issue.record("bad line accepted")
        } catch {
            #expect(error.line == 2)
            #expect(error.description.hasPrefix("line 2:"))
        }
        #expect(out.count == 1)
        let fields = out[0].split(separator: ",").compactMap { Double($0) }
        #expect(fields.count == 2 && fields[0] > 500 && fields[1] > 30)
        #expect(try RoutingBatch.routeNodesLine("0,1", query: &query).split(separator: ",").count == 2)
        #expect(throws: RoutingError.self) { try RoutingBatch.routeNodesLine("0,99999999", query: &query) }
        #expect(throws: RoutingError.self) { try RoutingBatch.routeNodesLine("a,b", query: &query) }
        #expect(throws: RoutingError.self) { try RoutingBatch.routeCoordinatesLine("91,0,43.7,7.4", query: &query) }
        // A valid coordinate far from every road is unreachable, not a bad line.
        #expect(try RoutingBatch.routeCoordinatesLine("0,0,43.7311,7.4197", query: &query) == "-1,-1")
        let snaps = try RoutingBatch.snapOrEmpty([LatLng(degrees: 0, 0), LatLng(degrees: 43.7311, 7.4197)], query: query)
        let row = query.matrix(snappedSources: [snaps[1]], snappedTargets: snaps)
        #expect(row[0][0] == nil && row[0][1] == 0)
    }

    @Test("unreachable pairs print -1,-1 and -1")
    func unreachable() throws {
        // Two nodes joined one way only: 1 cannot reach 0.
        let graph = RoadGraph.build(latDegrees: [43.73, 43.731], lngDegrees: [7.42, 7.421], osmNodeIds: [1, 2],
                                    tails: [0], heads: [1], durationsMs: [1_000], lengthsMeters: [100])
        var query = RoadNetwork.build(graph: graph).makeQuery()
        #expect(try RoutingBatch.routeNodesLine("1,0", query: &query) == "-1,-1")
        #expect(try RoutingBatch.routeNodesLine("0,1", query: &query) == "100.00,1.000")
        let rows = query.matrixMs(sourceNodes: [1], targetNodes: [0, 1])
        #expect(rows == [[.max, 0]])
        #expect(RoutingBatch.formatRow(durations: [nil, 1.5], distances: [nil, 12.3449]) == "-1,-1,1.500,12.34")
        // The fast formatter agrees with %.Nf away from exact halves.
        var rng = SeededRandom(seed: 5)
        for _ in 0..<2_000 {
            let v = Double.random(in: 0..<100_000, using: &rng) * (Bool.random(using: &rng) ? 1 : 0.001)
            for d in [0, 2, 3] { #expect(RoutingBatch.fixed(v, decimals: d) == String(format: "%.\(d)f", v), "\(v) \(d)") }
        }
        #expect(RoutingBatch.fixed(0.0005, decimals: 2) == "0.00")
        #expect(RoutingBatch.fixed(7, decimals: 3) == "7.000")
    }

    @Test("point files parse with line numbers")
    func pointFiles() throws {
        #expect(try RoutingBatch.readPoints("43.7,7.4\n43.8,7.5\n").count == 2)
        #expect(try RoutingBatch.readPoints("").isEmpty)
        do { _ = try RoutingBatch.readPoints("43.7,7.4\n43.8\n"); Issue.record("accepted a bad line") }
        catch { #expect(error.line == 2) }
    }
}

import ArgumentParser
import Foundation
import HexGeo
import Routing
import Vocabulary

/// `hexfleet matrix --graph GRAPH --sources FILE --targets FILE`: a duration table.
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Car travel-time matrix: one CSV row of durations (s) per source, -1 where unreachable.",
        discussion: "Sources and targets are files of lat,lng lines. A bad line is reported with its file and number; exit status 1.")

    @Option(help: "The graph file written by import-osm (or an OSM PBF, imported on the fly).")
    var graph: String

    @Option(help: "File of lat,lng lines: the rows.")
    var sources: String

    @Option(help: "File of lat,lng lines: the columns.")
    var targets: String

    func run() throws {
        do {
            let network = try RoadNetwork.open(path: graph)
            var query = network.makeQuery()
            let s = try points(sources), t = try points(targets)
            let snappedSources = try RoutingBatch.snapOrEmpty(s, query: query)
            let snappedTargets = try RoutingBatch.snapOrEmpty(t, query: query)
            for row in query.matrix(snappedSources: snappedSources, snappedTargets: snappedTargets) {
                print(RoutingBatch.formatRow(row))
            }
        } catch {
            RoutingStderr.write("matrix: \(error)")
            throw ExitCode.failure
        }
    }

    private struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    private func points(_ path: String) throws -> [LatLng] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) }
        catch { throw Failure("cannot read \(path)") }
        do { return try RoutingBatch.readPoints(text) }
        catch { throw Failure("\(path) \(error)") }
    }
}

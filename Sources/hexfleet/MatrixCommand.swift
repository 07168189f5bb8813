import ArgumentParser
import Foundation
import HexGeo
import Routing
import Vocabulary

/// `hexfleet matrix --graph GRAPH --sources FILE --targets FILE`: a duration table.
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Car route matrix: one CSV row per source of duration_s,distance_m per target, -1,-1 where unreachable.",
        discussion: "Sources and targets are files of lat,lng lines. Each cell's duration and distance belong to one route: the fastest, or the shortest with --optimize distance. A bad line is reported with its file and number; exit status 1.")

    @Option(help: "The graph file written by import-osm (or an OSM PBF, imported on the fly).")
    var graph: String

    @Option(help: "File of lat,lng lines: the rows.")
    var sources: String

    @Option(help: "File of lat,lng lines: the columns.")
    var targets: String

    @Option(help: "What routes minimise: time (default) or distance.", transform: RoutingStderr.metric)
    var optimize: RoutingMetric = .time

    func run() throws {
        do {
            let network = try RoadNetwork.open(path: graph)
            var query = network.makeQuery(optimize: optimize)
            let s = try points(sources), t = try points(targets)
            let snappedSources = try RoutingBatch.snapOrEmpty(s, query: query)
            let snappedTargets = try RoutingBatch.snapOrEmpty(t, query: query)
            let table = query.table(snappedSources: snappedSources, snappedTargets: snappedTargets)
            for (durations, distances) in zip(table.durationsSeconds, table.distancesMeters) {
                print(RoutingBatch.formatRow(durations: durations, distances: distances))
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

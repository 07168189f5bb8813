import ArgumentParser
import Foundation
import Routing

/// Writes a line to stderr (people), keeping stdout for data.
enum RoutingStderr {
    static func write(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    /// Parses `--optimize time|distance`.
    static func metric(_ text: String) throws -> RoutingMetric {
        guard let metric = RoutingMetric(name: text) else { throw ValidationError("--optimize must be time or distance, not '\(text)'") }
        return metric
    }
}

/// `hexfleet route --graph GRAPH [--nodes]`: one route per stdin line.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Car routes (fastest, or shortest with --optimize distance): lat1,lng1,lat2,lng2 lines in (or from_node,to_node with --nodes); distance_m,duration_s lines out.",
        discussion: "Unreachable pairs print -1,-1. A bad line is reported on stderr with its number and exits with status 1.")

    @Option(help: "The graph file written by import-osm (or an OSM PBF, imported on the fly).")
    var graph: String

    @Flag(help: "Read from_node,to_node lines (node ids of export-graph) instead of coordinates.")
    var nodes = false

    @Option(help: "What routes minimise: time (default) or distance.", transform: RoutingStderr.metric)
    var optimize: RoutingMetric = .time

    func run() throws {
        let network: RoadNetwork
        do { network = try RoadNetwork.open(path: graph) }
        catch { RoutingStderr.write("route: \(error)"); throw ExitCode.failure }
        var query = network.makeQuery(optimize: optimize)
        let byNodes = nodes
        do {
            try RoutingBatch.run(next: { readLine() }, emit: { print($0) }) { (line: String) throws(RoutingError) -> String in
                byNodes ? try RoutingBatch.routeNodesLine(line, query: &query)
                    : try RoutingBatch.routeCoordinatesLine(line, query: &query)
            }
        } catch {
            RoutingStderr.write("route: \(error)")
            throw ExitCode.failure
        }
    }
}

import ArgumentParser
import Foundation
import Routing

/// `hexfleet export-graph --graph GRAPH --nodes NODES.csv --edges EDGES.csv`: the graph before contraction as CSV.
struct ExportGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-graph",
        abstract: "Write the graph before contraction: nodes as id,lat,lng and directed edges as from,to,length_m,duration_s.")

    @Option(help: "The graph file written by import-osm (or an OSM PBF).")
    var graph: String

    @Option(help: "Output CSV of nodes: id,lat,lng (with a header line).")
    var nodes: String

    @Option(help: "Output CSV of directed edges: from,to,length_m,duration_s (with a header line).")
    var edges: String

    func run() throws {
        do {
            let network = try RoadNetwork.open(path: graph)
            try GraphExport.nodesCSV(network.graph).write(toFile: nodes, atomically: true, encoding: .utf8)
            try GraphExport.edgesCSV(network.graph).write(toFile: edges, atomically: true, encoding: .utf8)
            RoutingStderr.write("exported \(network.graph.nodeCount) nodes, \(network.graph.edgeCount) edges")
        } catch {
            RoutingStderr.write("export-graph: \(error)")
            throw ExitCode.failure
        }
    }
}

import ArgumentParser
import Foundation
import Routing

/// `hexfleet import-osm FILE.osm.pbf --out GRAPH`: builds and saves a contracted car graph.
struct ImportOSMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-osm",
        abstract: "Import an OSM PBF extract into a contracted car routing graph.",
        discussion: "Progress goes to stderr; one JSON summary line (nodes_read, ways_read, relations_read, graph_nodes, graph_edges, dropped_nodes, …) goes to stdout.")

    @Argument(help: "The OSM PBF file to import.")
    var file: String

    @Option(help: "Where to write the graph file (memory-mappable, versioned).")
    var out: String

    func run() throws {
        do {
            let start = ContinuousClock.now
            let network = try RoadNetwork.importPBF(path: file) { RoutingStderr.write($0) }
            try network.save(to: out)
            RoutingStderr.write("wrote \(out) in \(ContinuousClock.now - start)")
            print(network.importSummary?.json ?? "{}")
        } catch {
            RoutingStderr.write("import-osm: \(error)")
            throw ExitCode.failure
        }
    }
}

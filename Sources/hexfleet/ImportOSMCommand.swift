import ArgumentParser
import Foundation
import Routing

/// `hexfleet import-osm FILE.osm.pbf --out GRAPH [--profile car|bicycle|foot|scooter] [--turn-costs on|off|all]`: builds
/// and saves a contracted graph for one mode of travel.
struct ImportOSMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-osm",
        abstract: "Import an OSM PBF extract into a contracted routing graph for one profile (car by default).",
        discussion: "Progress goes to stderr; one JSON summary line (nodes_read, ways_read, relations_read, graph_nodes, graph_edges, dropped_nodes, …) goes to stdout.")

    @Argument(help: "The OSM PBF file to import.")
    var file: String

    @Option(help: "Where to write the graph file (memory-mappable, versioned).")
    var out: String

    @Option(help: "The mode the graph is for: car, bicycle, foot or scooter (one graph file per profile).")
    var profile = "car"

    @Option(name: .customLong("turn-costs"),
            help: "Car only: on (default: U-turn and turn penalties at junctions touching primary or better roads), off, or all (every junction; larger graph).")
    var turnCosts: String?

    func validate() throws {
        guard let mode = RoutingProfile(name: profile) else { throw ValidationError("--profile must be car, bicycle, foot or scooter") }
        if let turnCosts {
            guard ["on", "off", "all"].contains(turnCosts) else { throw ValidationError("--turn-costs must be on, off or all") }
            guard mode == .car || turnCosts == "off" else { throw ValidationError("--turn-costs applies to the car profile only") }
        }
    }

    func run() throws {
        let mode = RoutingProfile(name: profile) ?? .car
        var rules = mode.rules
        if mode == .car {
            var costs: TurnCosts? = .rightHandTraffic
            if turnCosts == "off" { costs = nil } else if turnCosts == "all" { costs?.maxRoadClassRank = .max }
            rules = CarProfile(turnCosts: costs)
        }
        do {
            let start = ContinuousClock.now
            let network = try RoadNetwork.importPBF(path: file, profile: rules) { RoutingStderr.write($0) }
            try network.save(to: out)
            RoutingStderr.write("wrote \(out) (\(mode.rawValue)) in \(ContinuousClock.now - start)")
            print(network.importSummary?.json ?? "{}")
        } catch {
            RoutingStderr.write("import-osm: \(error)")
            throw ExitCode.failure
        }
    }
}

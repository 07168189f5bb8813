import Foundation
import Routing
import TestSupport

/// The three shared OSM extracts, each imported and contracted once per test process.
enum Cities {
    struct Expected: Sendable {
        var name: String
        var nodes: Int
        var ways: Int
        var relations: Int
    }

    /// Counts that `osmium fileinfo -e` reports (shared data README).
    static let expected: [Expected] = [
        Expected(name: "monaco", nodes: 180_118, ways: 27_377, relations: 212),
        Expected(name: "andorra", nodes: 69_644, ways: 2_725, relations: 74),
        Expected(name: "helsinki", nodes: 24_260, ways: 5_130, relations: 620),
    ]

    static func path(_ name: String) -> String { SharedData.url("osm/\(name).osm.pbf").path }

    static let monaco = Result { () throws -> RoadNetwork in try RoadNetwork.importPBF(path: path("monaco")) }
    static let andorra = Result { () throws -> RoadNetwork in try RoadNetwork.importPBF(path: path("andorra")) }
    static let helsinki = Result { () throws -> RoadNetwork in try RoadNetwork.importPBF(path: path("helsinki")) }

    static func network(_ name: String) throws -> RoadNetwork {
        switch name {
        case "monaco": return try monaco.get()
        case "andorra": return try andorra.get()
        default: return try helsinki.get()
        }
    }
}

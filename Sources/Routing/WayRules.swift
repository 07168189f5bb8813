/// How one mode of travel reads OSM tags: which ways it may use, in which directions and how fast, and which turn
/// restrictions bind it. `CarProfile`, `CycleProfile` (bicycle and scooter) and `FootProfile` implement it.
public protocol WayRules: Sendable {
    /// The rule for a way with `tags`, or nil when the mode may not use it at all.
    func rule(for tags: [String: String]) -> WayRule?
    /// The restriction value (`no_left_turn`, `only_straight_on`, …) of a `type=restriction` relation with `tags` for
    /// this mode, or nil when it does not bind this mode (an `except` naming it, or a mode that ignores turn bans).
    func restrictionValue(_ tags: [String: String]) -> String?
    /// The relation `type`s read as turn restrictions for this mode (others are not counted at all).
    var restrictionTypes: Set<String> { get }
    /// The turn penalties the importer builds into this mode's graph, or nil for none (see `TurnCosts`).
    var turnCosts: TurnCosts? { get }
}

extension WayRules {
    public var turnCosts: TurnCosts? { nil }
}

/// How a way may be travelled: speeds per direction in km/h (nil = that direction is closed).
public struct WayRule: Sendable, Equatable {
    /// Speed along the way's node order, or nil when closed.
    public var forwardKmh: Double?
    /// Speed against the way's node order, or nil when closed.
    public var backwardKmh: Double?
    /// The way's road class as a rank, 0 for the most important (motorway); which junctions get turn costs
    /// (`TurnCosts.maxRoadClassRank`) is decided on it. Profiles without turn costs leave it 0.
    public var roadClassRank: UInt8

    public init(forwardKmh: Double?, backwardKmh: Double?, roadClassRank: UInt8 = 0) {
        self.forwardKmh = forwardKmh
        self.backwardKmh = backwardKmh
        self.roadClassRank = roadClassRank
    }
}

/// The modes Hexfleet builds graphs for; one graph file per profile (`hexfleet import-osm --profile`).
public enum RoutingProfile: String, CaseIterable, Sendable, Hashable, Comparable {
    case car, bicycle, foot, scooter

    /// The profile named `name` (`car`, `bicycle`, `foot`, `scooter`; also `bike` and `walk`), nil for anything else.
    public init?(name: String) {
        switch name.lowercased() {
        case "car": self = .car
        case "bicycle", "bike": self = .bicycle
        case "foot", "walk": self = .foot
        case "scooter": self = .scooter
        default: return nil
        }
    }

    /// The tag rules of this mode with its default speeds.
    public var rules: any WayRules {
        switch self {
        case .car: CarProfile()
        case .bicycle: CycleProfile.bicycle
        case .scooter: CycleProfile.scooter
        case .foot: FootProfile()
        }
    }

    public static func < (a: RoutingProfile, b: RoutingProfile) -> Bool { a.rawValue < b.rawValue }
}

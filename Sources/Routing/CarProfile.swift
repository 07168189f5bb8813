/// The car profile: which OSM ways a car may use, in which directions, and how fast.
///
/// Default speeds per `highway` class follow common open-source routing profiles' free-flow figures for
/// cars; a parseable `maxspeed` replaces the default, scaled by `maxspeedFactor` because traffic rarely
/// runs at the limit.
public struct CarProfile: WayRules {
    /// Free-flow speed in km/h per routable `highway` value.
    public var classSpeedsKmh: [String: Double] = [
        "motorway": 90, "motorway_link": 45, "trunk": 85, "trunk_link": 40,
        "primary": 65, "primary_link": 30, "secondary": 55, "secondary_link": 25,
        "tertiary": 40, "tertiary_link": 20, "unclassified": 25, "residential": 25,
        "living_street": 10, "service": 15,
        // Open to cars unless tagged otherwise (OSM's default access); Valhalla routes cars on both.
        "track": 15, "road": 25,
    ]
    /// Speeds for `service=*` subtypes, which are slower than plain service roads.
    public var serviceSpeedsKmh: [String: Double] = [
        "parking_aisle": 5, "parking": 5, "driveway": 5, "alley": 5, "drive-through": 5, "drive-thru": 5,
    ]
    /// Fraction of a posted `maxspeed` that traffic is assumed to reach.
    public var maxspeedFactor = 0.8
    /// Access values that close a way to cars.
    public var blockedAccess: Set<String> = [
        "no", "private", "agricultural", "forestry", "emergency", "psv", "customers", "delivery", "military", "bus",
    ]

    /// U-turn and left-turn penalties built into the graph at junctions (`import-osm --turn-costs on|off`); nil: none.
    public var turnCosts: TurnCosts? = .rightHandTraffic

    /// Rank of each class for `WayRule.roadClassRank` (0 most important); links rank with their road.
    public static let roadClassRanks: [String: UInt8] = [
        "motorway": 0, "motorway_link": 0, "trunk": 1, "trunk_link": 1, "primary": 2, "primary_link": 2,
        "secondary": 3, "secondary_link": 3, "tertiary": 4, "tertiary_link": 4, "unclassified": 5, "residential": 5,
        "road": 5, "living_street": 6, "service": 7, "track": 7,
    ]

    /// The default profile (turn costs on).
    public init() {}

    /// The default profile with or without turn costs.
    public init(turnCosts: TurnCosts?) { self.turnCosts = turnCosts }

    /// How a way may be driven (kept under this name for existing callers).
    public typealias WayRule = Routing.WayRule

    /// The rule for a way with `tags`, or nil when cars may not use it at all.
    public func rule(for tags: [String: String]) -> WayRule? {
        guard let highway = tags["highway"], let classSpeed = classSpeedsKmh[highway] else { return nil }
        if tags["area"] == "yes" || tags["impassable"] == "yes" { return nil }
        // The most specific access tag wins: motorcar, then motor_vehicle, then vehicle, then access.
        for key in ["motorcar", "motor_vehicle", "vehicle", "access"] {
            if let value = tags[key] {
                if blockedAccess.contains(value) { return nil }
                break
            }
        }
        var speed = classSpeed
        if highway == "service", let service = tags["service"], let s = serviceSpeedsKmh[service] { speed = s }
        var forward = speed, backward = speed
        if let limit = Self.parseMaxspeed(tags["maxspeed"]) { forward = limit * maxspeedFactor; backward = forward }
        if let limit = Self.parseMaxspeed(tags["maxspeed:forward"]) { forward = limit * maxspeedFactor }
        if let limit = Self.parseMaxspeed(tags["maxspeed:backward"]) { backward = limit * maxspeedFactor }
        forward = min(max(forward, 3), 140)
        backward = min(max(backward, 3), 140)

        let rank = Self.roadClassRanks[highway] ?? 7
        let oneway = tags["oneway"]
        let junction = tags["junction"]
        let impliedOneway = highway == "motorway" || highway == "motorway_link" || junction == "roundabout"
            || junction == "circular"
        switch oneway {
        case "yes", "true", "1": return WayRule(forwardKmh: forward, backwardKmh: nil, roadClassRank: rank)
        case "-1", "reverse": return WayRule(forwardKmh: nil, backwardKmh: backward, roadClassRank: rank)
        case "reversible", "alternating": return nil   // direction changes by time of day: unusable without schedules
        case "no", "false", "0": return WayRule(forwardKmh: forward, backwardKmh: backward, roadClassRank: rank)
        default:
            return impliedOneway ? WayRule(forwardKmh: forward, backwardKmh: nil, roadClassRank: rank)
                : WayRule(forwardKmh: forward, backwardKmh: backward, roadClassRank: rank)
        }
    }

    /// Restrictions for cars: `restriction:motorcar`, then `restriction`, then `restriction:motor_vehicle`; none when
    /// `except` names cars.
    public func restrictionValue(_ tags: [String: String]) -> String? {
        if let except = tags["except"], except.split(separator: ";").contains(where: { $0 == "motorcar" || $0 == "motor_vehicle" }) {
            return nil
        }
        return tags["restriction:motorcar"] ?? tags["restriction"] ?? tags["restriction:motor_vehicle"]
    }

    public var restrictionTypes: Set<String> { ["restriction", "restriction:motorcar"] }

    /// A `maxspeed` value in km/h: "50", "50 km/h", "30 mph"; nil for "none", "signals", zones and junk.
    public static func parseMaxspeed(_ value: String?) -> Double? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: " ")
        var digits = ""
        for ch in trimmed {
            if ch.isNumber || ch == "." { digits.append(ch) } else { break }
        }
        guard let number = Double(digits), number > 0, number < 300 else { return nil }
        return trimmed.hasSuffix("mph") ? number * 1.609344 : number
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}

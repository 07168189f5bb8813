/// The bicycle rules: which OSM ways a bicycle (or a delivery scooter, which follows the same rules at its own speed)
/// may use, in which directions, and how fast. Documented in docs/routing.md ("Profiles").
///
/// Roads motor traffic shares are ridden at the class speed; footways and pedestrian streets without a bicycle
/// permission are walked, bike pushed, at `pushKmh`; steps only with an explicit bicycle permission or a ramp.
public struct CycleProfile: WayRules {
    /// Riding speed in km/h per `highway` value open to bicycles by default.
    public var classSpeedsKmh: [String: Double]
    /// Speed pushing the bike (footways, pedestrian streets, `bicycle=dismount`), km/h.
    public var pushKmh: Double
    /// Speed carrying the bike on steps that allow it, km/h.
    public var stepsKmh: Double
    /// Access values that close a way.
    public var blockedAccess: Set<String> = [
        "no", "private", "agricultural", "forestry", "emergency", "psv", "customers", "delivery", "military", "bus",
    ]

    /// Bicycle speeds: about 16–18 km/h on roads and cycleways, slower on tracks, paths and living streets.
    public static let bicycle = CycleProfile(classSpeedsKmh: [
        "cycleway": 18, "path": 12, "track": 12, "bridleway": 8,
        "primary": 17, "primary_link": 17, "secondary": 17, "secondary_link": 17, "tertiary": 17, "tertiary_link": 17,
        "trunk": 17, "trunk_link": 17, "unclassified": 16, "residential": 16, "road": 14, "service": 14,
        "living_street": 10,
    ], pushKmh: 5, stepsKmh: 2)

    /// A light delivery scooter on the bicycle rules: faster on roads and cycleways, as slow as a bike where surfaces
    /// or pedestrians limit it.
    public static let scooter = CycleProfile(classSpeedsKmh: [
        "cycleway": 20, "path": 12, "track": 12, "bridleway": 8,
        "primary": 25, "primary_link": 25, "secondary": 25, "secondary_link": 25, "tertiary": 25, "tertiary_link": 25,
        "trunk": 25, "trunk_link": 25, "unclassified": 22, "residential": 22, "road": 18, "service": 15,
        "living_street": 10,
    ], pushKmh: 5, stepsKmh: 2)

    /// A profile with these speeds.
    public init(classSpeedsKmh: [String: Double], pushKmh: Double, stepsKmh: Double) {
        self.classSpeedsKmh = classSpeedsKmh
        self.pushKmh = pushKmh
        self.stepsKmh = stepsKmh
    }

    static let permitted: Set<String> = ["yes", "designated", "permissive", "destination"]
    /// Ways where a cyclist walks unless a bicycle tag allows riding.
    static let walkedClasses: Set<String> = ["footway", "pedestrian"]
    /// Values of `cycleway*` that mean a contraflow lane on a one-way street.
    static let contraflow: Set<String> = ["opposite", "opposite_lane", "opposite_track", "opposite_share_busway"]

    public func rule(for tags: [String: String]) -> WayRule? {
        guard let highway = tags["highway"] else { return nil }
        if tags["area"] == "yes" || tags["impassable"] == "yes" { return nil }
        let bicycleTag = tags["bicycle"]
        // The most specific access tag wins: bicycle, then vehicle, then access.
        for key in ["bicycle", "vehicle", "access"] {
            if let value = tags[key] {
                if blockedAccess.contains(value) { return nil }
                break
            }
        }
        let allowed = bicycleTag.map { Self.permitted.contains($0) } ?? false
        var speed: Double
        var walked = false
        if let riding = classSpeedsKmh[highway] {
            speed = riding
        } else if highway == "motorway" || highway == "motorway_link" {
            guard allowed else { return nil }
            speed = classSpeedsKmh["trunk"] ?? pushKmh
        } else if Self.walkedClasses.contains(highway) {
            if allowed { speed = classSpeedsKmh["path"] ?? pushKmh } else { speed = pushKmh; walked = true }
        } else if highway == "steps" {
            guard allowed || tags["ramp:bicycle"] == "yes" || tags["ramp"] == "yes" else { return nil }
            speed = stepsKmh
            walked = true
        } else {
            return nil
        }
        if highway == "path" && bicycleTag == "designated" { speed = classSpeedsKmh["cycleway"] ?? speed }
        if bicycleTag == "dismount" { speed = min(speed, pushKmh); walked = true }
        // A cyclist on foot may walk either way; otherwise one-way rules, with the bicycle's own tags first.
        if walked { return WayRule(forwardKmh: speed, backwardKmh: speed) }
        return Self.directions(tags, highway: highway, speed: speed)
    }

    static func directions(_ tags: [String: String], highway: String, speed: Double) -> WayRule {
        let both = WayRule(forwardKmh: speed, backwardKmh: speed)
        switch tags["oneway:bicycle"] {
        case "yes", "true", "1": return WayRule(forwardKmh: speed, backwardKmh: nil)
        case "-1": return WayRule(forwardKmh: nil, backwardKmh: speed)
        case "no", "false", "0": return both
        default: break
        }
        for key in ["cycleway", "cycleway:left", "cycleway:right", "cycleway:both"] {
            if let value = tags[key], contraflow.contains(value) { return both }
        }
        let junction = tags["junction"]
        switch tags["oneway"] {
        case "yes", "true", "1": return WayRule(forwardKmh: speed, backwardKmh: nil)
        case "-1", "reverse": return WayRule(forwardKmh: nil, backwardKmh: speed)
        case "no", "false", "0": return both
        default:
            return junction == "roundabout" || junction == "circular" ? WayRule(forwardKmh: speed, backwardKmh: nil) : both
        }
    }

    /// `restriction:bicycle`, else `restriction`; none when `except` names bicycles or the relation is for cars only.
    public func restrictionValue(_ tags: [String: String]) -> String? {
        if let except = tags["except"], except.split(separator: ";").contains(where: { $0 == "bicycle" }) { return nil }
        return tags["restriction:bicycle"] ?? tags["restriction"]
    }

    public var restrictionTypes: Set<String> { ["restriction", "restriction:bicycle"] }
}

/// The pedestrian rules: footways, paths, steps, pedestrian streets and every road but motorways, both ways at
/// walking speed (`oneway` binds vehicles, not walkers; only `oneway:foot` does); turn restrictions do not apply.
public struct FootProfile: WayRules {
    /// Walking speed in km/h.
    public var walkKmh = 5.0
    /// Speed on steps, km/h.
    public var stepsKmh = 3.0
    /// `highway` values a pedestrian may use unless an access tag says otherwise.
    public var classes: Set<String> = [
        "footway", "pedestrian", "path", "steps", "living_street", "residential", "service", "track", "unclassified",
        "road", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link", "trunk",
        "trunk_link", "cycleway", "bridleway", "corridor",
    ]
    /// Access values that close a way.
    public var blockedAccess: Set<String> = [
        "no", "private", "agricultural", "forestry", "emergency", "psv", "customers", "delivery", "military", "bus",
        "use_sidepath",
    ]

    /// The default profile.
    public init() {}

    public func rule(for tags: [String: String]) -> WayRule? {
        guard let highway = tags["highway"] else { return nil }
        let footTag = tags["foot"]
        if highway == "motorway" || highway == "motorway_link" {
            guard footTag == "yes" || footTag == "designated" else { return nil }
        } else if !classes.contains(highway) {
            return nil
        }
        if tags["impassable"] == "yes" { return nil }
        for key in ["foot", "access"] {
            if let value = tags[key] {
                if blockedAccess.contains(value) { return nil }
                break
            }
        }
        let speed = highway == "steps" ? stepsKmh : walkKmh
        switch tags["oneway:foot"] {
        case "yes", "true", "1": return WayRule(forwardKmh: speed, backwardKmh: nil)
        case "-1": return WayRule(forwardKmh: nil, backwardKmh: speed)
        default: return WayRule(forwardKmh: speed, backwardKmh: speed)
        }
    }

    /// Turn bans bind vehicles; a pedestrian crosses where a car may not turn.
    public func restrictionValue(_ tags: [String: String]) -> String? { nil }

    public var restrictionTypes: Set<String> { [] }
}

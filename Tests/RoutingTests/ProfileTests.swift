import Foundation
import HexGeo
import Testing
import Vocabulary
@testable import Routing

/// Every routable-looking way of an extract with its tags, for checking the profiles against real OSM data.
private struct WayTagCollector: OSMVisitor {
    var ways: [(id: Int64, tags: [String: String], refs: [Int64])] = []
    mutating func node(id: Int64, latDegrees: Double, lngDegrees: Double) {}
    mutating func way(id: Int64, tags: [String: String], refs: [Int64]) {
        if tags["highway"] != nil, refs.count >= 2 { ways.append((id, tags, refs)) }
    }
    mutating func relation(id: Int64, tags: [String: String], members: [OSMMember]) {}
}

@Suite("Profiles: car, bicycle, foot, scooter")
struct ProfileTests {
    static let monacoWays = Result { () throws -> [(id: Int64, tags: [String: String], refs: [Int64])] in
        var collector = WayTagCollector()
        _ = try PBFReader.read(path: Cities.path("monaco"), into: &collector)
        return collector.ways
    }
    static let monacoBicycle = Result { () throws -> RoadNetwork in
        try RoadNetwork.importPBF(path: Cities.path("monaco"), profile: RoutingProfile.bicycle.rules)
    }
    static let monacoFoot = Result { () throws -> RoadNetwork in
        try RoadNetwork.importPBF(path: Cities.path("monaco"), profile: RoutingProfile.foot.rules)
    }

    @Test("profile names parse, including bike and walk; junk does not")
    func names() {
        #expect(RoutingProfile(name: "car") == .car)
        #expect(RoutingProfile(name: "Bike") == .bicycle)
        #expect(RoutingProfile(name: "walk") == .foot)
        #expect(RoutingProfile(name: "scooter") == .scooter)
        #expect(RoutingProfile(name: "truck") == nil)
        #expect(RoutingProfile(name: "") == nil)
    }

    @Test("bicycle rules: cycleways ridden, footways pushed, steps and motorways closed, bicycle tags first")
    func bicycleRules() {
        let p = CycleProfile.bicycle
        #expect(p.rule(for: ["highway": "cycleway"])?.forwardKmh == 18)
        #expect(p.rule(for: ["highway": "footway"]) == WayRule(forwardKmh: 5, backwardKmh: 5))
        #expect(p.rule(for: ["highway": "footway", "bicycle": "yes"])?.forwardKmh == 12)
        #expect(p.rule(for: ["highway": "footway", "bicycle": "no"]) == nil)
        #expect(p.rule(for: ["highway": "steps"]) == nil)
        #expect(p.rule(for: ["highway": "steps", "ramp:bicycle": "yes"])?.forwardKmh == 2)
        #expect(p.rule(for: ["highway": "motorway"]) == nil)
        #expect(p.rule(for: ["highway": "primary", "bicycle": "no"]) == nil)
        #expect(p.rule(for: ["highway": "residential", "access": "no", "bicycle": "yes"]) != nil)
        #expect(p.rule(for: ["highway": "residential", "motor_vehicle": "no"]) != nil)
        #expect(p.rule(for: ["highway": "residential", "oneway": "yes"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "residential", "oneway": "yes", "oneway:bicycle": "no"])?.backwardKmh == 16)
        #expect(p.rule(for: ["highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"])?.backwardKmh == 16)
        #expect(p.rule(for: ["highway": "cycleway", "oneway:bicycle": "yes"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "tertiary", "junction": "roundabout"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "primary", "bicycle": "dismount"]) == WayRule(forwardKmh: 5, backwardKmh: 5))
        #expect(p.rule(for: ["highway": "path", "bicycle": "designated"])?.forwardKmh == 18)
        // Scooters follow the same rules at their own speeds.
        let s = CycleProfile.scooter
        #expect(s.rule(for: ["highway": "residential"])?.forwardKmh == 22)
        #expect(s.rule(for: ["highway": "steps"]) == nil)
        #expect(s.rule(for: ["highway": "residential", "oneway": "yes", "oneway:bicycle": "no"])?.backwardKmh == 22)
    }

    @Test("foot rules: both ways at walking speed, steps slower, motorways and foot=no closed")
    func footRules() {
        let p = FootProfile()
        #expect(p.rule(for: ["highway": "footway"]) == WayRule(forwardKmh: 5, backwardKmh: 5))
        #expect(p.rule(for: ["highway": "steps"]) == WayRule(forwardKmh: 3, backwardKmh: 3))
        #expect(p.rule(for: ["highway": "residential", "oneway": "yes"])?.backwardKmh == 5)
        #expect(p.rule(for: ["highway": "footway", "oneway:foot": "yes"])?.backwardKmh == nil)
        #expect(p.rule(for: ["highway": "motorway"]) == nil)
        #expect(p.rule(for: ["highway": "primary", "foot": "no"]) == nil)
        #expect(p.rule(for: ["highway": "service", "access": "private", "foot": "yes"]) != nil)
        #expect(p.rule(for: ["highway": "construction"]) == nil)
    }

    @Test("turn restrictions bind the modes they name")
    func restrictionsPerMode() {
        let members = [OSMMember(kind: .way, id: 1, role: "from"), OSMMember(kind: .node, id: 2, role: "via"),
                       OSMMember(kind: .way, id: 3, role: "to")]
        func count(_ rules: any WayRules, _ tags: [String: String]) -> Int {
            var c = OSMImporter.Collector(profile: rules)
            c.relation(id: 1, tags: tags, members: members)
            return c.restrictions.count
        }
        let plain = ["type": "restriction", "restriction": "no_left_turn"]
        #expect(count(CarProfile(), plain) == 1)
        #expect(count(CycleProfile.bicycle, plain) == 1)
        #expect(count(FootProfile(), plain) == 0)
        let exceptBikes = plain.merging(["except": "bicycle"]) { $1 }
        #expect(count(CarProfile(), exceptBikes) == 1)
        #expect(count(CycleProfile.bicycle, exceptBikes) == 0)
        #expect(count(CarProfile(), ["type": "restriction:bicycle", "restriction:bicycle": "no_left_turn"]) == 0)
        #expect(count(CycleProfile.bicycle, ["type": "restriction:bicycle", "restriction:bicycle": "no_left_turn"]) == 1)
        #expect(count(CycleProfile.bicycle, ["type": "restriction", "restriction:motorcar": "no_left_turn"]) == 0)
    }

    @Test("on Monaco's real ways, each profile takes exactly the ways its rules open")
    func monacoWaysPerProfile() throws {
        let ways = try Self.monacoWays.get()
        let car = CarProfile(), bike = CycleProfile.bicycle, foot = FootProfile()
        var counts: [String: Int] = [:]
        for way in ways {
            let highway = way.tags["highway"] ?? ""
            if ["footway", "steps", "pedestrian", "cycleway", "path"].contains(highway) {
                #expect(car.rule(for: way.tags) == nil, "car on \(highway) way \(way.id)")
            }
            if highway == "steps" && way.tags["foot"] != "no" && way.tags["access"] != "no" && way.tags["access"] != "private" {
                #expect(foot.rule(for: way.tags) != nil, "steps way \(way.id) closed to walkers")
                counts["steps", default: 0] += 1
            }
            if highway == "motorway" { #expect(foot.rule(for: way.tags) == nil && bike.rule(for: way.tags) == nil) }
            if way.tags["oneway"] == "yes", way.tags["oneway:bicycle"] == "no" || way.tags["cycleway"]?.hasPrefix("opposite") == true {
                #expect(car.rule(for: way.tags)?.backwardKmh == nil)
                #expect(bike.rule(for: way.tags)?.backwardKmh != nil, "contraflow way \(way.id) one-way for bicycles")
                counts["contraflow", default: 0] += 1
            }
            if foot.rule(for: way.tags) != nil { counts["foot", default: 0] += 1 }
            if car.rule(for: way.tags) != nil { counts["car", default: 0] += 1 }
        }
        // Monaco is a city of stairs and footpaths: walkers get many more ways than cars.
        #expect(counts["steps", default: 0] > 100)
        #expect(counts["foot", default: 0] > counts["car", default: 0] + 500)
    }

    @Test("the foot graph of Monaco walks at 3–5 km/h on every edge and reaches stairs cars cannot")
    func monacoFootGraph() throws {
        let foot = try Self.monacoFoot.get(), car = try Cities.network("monaco")
        let g = foot.graph
        #expect(g.nodeCount > car.graph.nodeCount)
        for e in 0..<g.edgeCount {
            // Durations are whole milliseconds (at least 1): between 3 and 5 km/h up to that rounding.
            let ms = Double(g.durationsMs[e]), meters = g.lengthsMeters[e]
            #expect(ms >= meters / (5 / 3.6) * 1000 - 0.5 && (ms <= meters / (3 / 3.6) * 1000 + 0.5 || ms == 1),
                    "edge \(e): \(meters) m in \(ms) ms")
        }
        // Walking both ways on every edge: each edge has its reverse.
        var pairs = Set<UInt64>()
        for v in 0..<g.nodeCount { for e in g.outgoing(v) { pairs.insert(UInt64(v) << 32 | UInt64(g.forwardHeads[e])) } }
        let oneWay = pairs.filter { !pairs.contains(($0 & 0xFFFF_FFFF) << 32 | $0 >> 32) }
        #expect(oneWay.count * 100 < pairs.count, "\(oneWay.count) of \(pairs.count) foot edges have no reverse")
    }

    @Test("bicycle routes on Monaco equal Dijkstra on the bicycle graph, and are slower than the car's")
    func monacoBicycleRoutes() throws {
        let bike = try Self.monacoBicycle.get(), car = try Cities.network("monaco")
        var rng = SplitMix64(seed: 22)
        var query = bike.makeQuery()
        var dijkstra = DijkstraQuery(graph: bike.graph)
        var carQuery = car.makeQuery()
        var compared = 0, slower = 0, both = 0
        for _ in 0..<150 {
            let s = Int(rng.next() % UInt64(bike.graph.nodeCount)), t = Int(rng.next() % UInt64(bike.graph.nodeCount))
            let ch = query.durationMs(fromNode: s, toNode: t), exact = dijkstra.durationMs(from: s, to: t)
            #expect(ch == exact, "pair \(s)→\(t): CH \(String(describing: ch)) vs Dijkstra \(String(describing: exact))")
            compared += 1
            let a = bike.graph.coordinate(s), b = bike.graph.coordinate(t)
            if let byBike = try? query.route(from: a, to: b), let byCar = try? carQuery.route(from: a, to: b),
               byCar.distanceMeters > 500 {
                both += 1
                if byBike.durationSeconds > byCar.durationSeconds { slower += 1 }
            }
        }
        #expect(compared == 150)
        // Bicycles ride at 10–18 km/h where cars drive at 15–65: most longer trips take longer by bike.
        #expect(both > 50 && slower * 10 >= both * 8, "\(slower) of \(both) bicycle routes slower than by car")
    }
}

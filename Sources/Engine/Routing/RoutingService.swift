import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import JSON
import HexGeo
import Logging
import Routing
import Vocabulary

extension APIError.Code {
    public static let routingUnavailable = APIError.Code("routing_unavailable", 503)
    public static let noRoute = APIError.Code("no_route", 422)
    public static let noRoadNearby = APIError.Code("no_road_nearby", 422)
    // POST /v1/match refusals.
    public static let emptyTrace = APIError.Code("empty_trace", 400)
    public static let tooManyPoints = APIError.Code("too_many_points", 400)
    public static let invalidPoint = APIError.Code("invalid_point", 400)
    public static let nonMonotonicTimestamps = APIError.Code("non_monotonic_ts", 400)
    public static let profileUnavailable = APIError.Code("profile_unavailable", 422)
}

/// Routing on the road network: loads it (the configured graph, else the fixture city in demo mode), serves
/// route, ETA, matrix and map endpoints, and keeps live speeds from accepted pings, re-customizing the weights
/// on a worker about once a minute. Without a graph the endpoints answer `routing_unavailable`. Loop-owned.
final class RoutingService: EngineService {
    /// The car network and the weights in force; nil when no car graph is configured.
    let roads: RoadState?
    /// Every loaded network by profile (the car's is `roads`); live speeds are learned on the car's only.
    let profiles: [RoutingProfile: RoadState]
    private let auth: Authenticator
    private let workers: WorkQueue
    private let tickMs: UInt64
    private var ticksSinceCustomize = 0

    init(configuration: EngineConfiguration, ingest: IngestService, auth: Authenticator, workers: WorkQueue,
         logger: Logger) throws {
        self.auth = auth
        self.workers = workers
        tickMs = configuration.trackTickMs
        var paths = configuration.profileGraphPaths
        paths[.car] = configuration.graphPath
        if configuration.demo && configuration.graphPath == nil && paths.isEmpty {
            // The demo routes cars and bicycles on the fixture city.
            paths[.car] = Fixtures.path("monaco.osm.pbf")
            paths[.bicycle] = Fixtures.path("monaco.osm.pbf")
        }
        var loaded: [RoutingProfile: RoadState] = [:]
        for (profile, path) in paths.sorted(by: { $0.key < $1.key }) {
            let prefix = profile == .car ? "/graph-" : "/graph-\(profile.rawValue)-"
            let cache = configuration.dataDirectory.map { $0 + prefix + URL(fileURLWithPath: path).lastPathComponent + ".hfg" }
            let start = ContinuousClock.now
            let network: RoadNetwork
            do {
                network = try RoadNetwork.open(path: path, cachePath: cache, profile: profile)
            } catch {
                throw GraphLoadError(path: path, reason: "\(error)")
            }
            loaded[profile] = RoadState(network: network, profile: profile)
            logger.info("road network loaded", metadata: [
                "profile": "\(profile.rawValue)", "path": "\(path)", "nodes": "\(network.graph.nodeCount)",
                "edges": "\(network.graph.edgeCount)", "took": "\(ContinuousClock.now - start)"])
        }
        profiles = loaded
        roads = loaded[.car]
        if let roads {
            ingest.onAccepted { states, _ in
                for state in states {
                    guard roads.observedThisTick < roads.maxObservationsPerTick else { return }
                    roads.observedThisTick += 1
                    _ = roads.traffic.observe(driverId: state.id.rawValue, position: state.position, timestampMs: state.timestampMs)
                }
            }
        }
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/route", getRoute)
        routes.add(.get, "/v1/eta", getETA)
        routes.add(.post, "/v1/route/matrix", postMatrix)
        routes.add(.get, "/v1/isochrone", getIsochrone)
        routes.add(.get, "/v1/map/roads", getRoads)
        routes.add(.post, "/v1/match", postMatch)
    }

    func tick(nowMs: Int64) {
        guard let roads else { return }
        roads.observedThisTick = 0
        ticksSinceCustomize += 1
        // Re-customize about once a minute, on a worker; the loop only swaps the finished weights in.
        guard ticksSinceCustomize * Int(tickMs) >= 60_000, !roads.customizing, roads.traffic.observations > 0 else { return }
        ticksSinceCustomize = 0
        roads.customizing = true
        let job = roads.traffic.makeCustomization()
        try? workers.run(job, { $0.run() }) { [weak roads] weights in
            roads?.customizing = false
            roads?.use(weights)
        }
    }

    func requireRouting() throws(APIError) -> RoadState {
        guard let routing = roads else { throw APIError(.routingUnavailable, "no road graph is loaded (serve --graph FILE)") }
        return routing
    }

    /// The network of the request's `profile` (query string, or the JSON body's `"profile"`; default car):
    /// `invalid_parameter` for an unknown name, `profile_unavailable` when that profile's graph is not loaded.
    func requireRouting(_ request: HTTPRequest, body: JSONValue? = nil) throws(APIError) -> RoadState {
        let fromBody = body?["profile"]
        if let fromBody, fromBody.string == nil { throw APIError(.invalidParameter, "profile must be car, bicycle, foot or scooter") }
        guard let name = fromBody?.string ?? request.query("profile") else { return try requireRouting() }
        guard let profile = RoutingProfile(name: name) else {
            throw APIError(.invalidParameter, "profile must be car, bicycle, foot or scooter")
        }
        guard let routing = profiles[profile] else {
            throw APIError(.profileUnavailable, "no \(profile.rawValue) graph is loaded (serve --graph \(profile.rawValue)=FILE)")
        }
        return routing
    }

    static func mapRoutingError(_ error: RoutingError) -> APIError {
        "\(error)".contains("noRoad") ? APIError(.noRoadNearby, "no routable road near the point")
            : APIError(.noRoute, "routing failed")
    }

    /// `optimize=time|distance` (default time), from the query string or, for POST bodies, the JSON body.
    static func optimize(_ request: HTTPRequest, body: JSONValue? = nil) throws(APIError) -> RoutingMetric {
        let fromBody = body?["optimize"]
        if let fromBody, fromBody.string == nil { throw APIError(.invalidParameter, "optimize must be \"time\" or \"distance\"") }
        guard let name = fromBody?.string ?? request.query("optimize") else { return .time }
        guard let metric = RoutingMetric(name: name) else { throw APIError(.invalidParameter, "optimize must be time or distance") }
        return metric
    }

    /// The latest departure time accepted: 2100-01-01.
    static let maxDepartAtMs: Int64 = 4_102_444_800_000

    /// `depart_at_ms` (ms since the Unix epoch, 0…2100-01-01) from the query string or the JSON body; nil when absent.
    static func departAt(_ request: HTTPRequest, body: JSONValue? = nil) throws(APIError) -> Int64? {
        let problem = APIError(.invalidParameter, "depart_at_ms must be an integer of milliseconds since 1970 (up to 2100)")
        if let value = body?["depart_at_ms"] {
            guard let n = value.double, n.rounded() == n, n >= 0, n <= Double(maxDepartAtMs) else { throw problem }
            return Int64(n)
        }
        guard let text = request.query("depart_at_ms") else { return nil }
        guard let n = Int64(text), n >= 0, n <= maxDepartAtMs else { throw problem }
        return n
    }

    /// `GET /v1/route?from=lat,lng&to=lat,lng[&weights=live|free_flow][&optimize=time|distance]`: distance, duration,
    /// polyline. The shortest-distance hierarchy is built on first use, on a worker so the loop never waits for it.
    func getRoute(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting(request)
        let from = try RequestValues.point(request, "from"), to = try RequestValues.point(request, "to")
        let live = request.query("weights") != "free_flow"
        let optimize = try Self.optimize(request)
        let profile = routing.profile
        let departAt = try Self.departAt(request)
        func answer(_ found: Result<Route?, RoutingError>) {
            let route: Route
            switch found {
            case .failure(let error): responder.fail(Self.mapRoutingError(error)); return
            case .success(nil): responder.fail(APIError(.noRoute, "the destination is unreachable")); return
            case .success(let r?): route = r
            }
            responder.respond(.json { w in
                w.beginObject()
                w.key("distance_m"); w.number(route.distanceMeters)
                w.key("duration_s"); w.number(route.durationSeconds)
                w.key("polyline"); w.string(route.polyline)
                w.key("nodes"); w.number(route.nodes.count)
                w.key("weights"); w.string(departAt != nil ? "hour_of_week" : live ? "live" : "free_flow")
                w.key("optimize"); w.string(optimize.rawValue)
                w.key("profile"); w.string(profile.rawValue)
                w.endObject()
            })
        }
        if let departAt {
            // The departure hour's weights: contracted once per bucket on a worker, then kept on the loop.
            let network = routing.network
            let known = routing.weights(departAtMs: departAt)
            let job = known == nil ? routing.hourCustomization(departAtMs: departAt) : nil
            try workers.run({ () -> (RoutingWeights, Result<Route?, RoutingError>) in
                let weights = known ?? job?.run() ?? network.freeFlow
                var q = network.makeQuery(weights: weights, optimize: optimize)
                do throws(RoutingError) { return (weights, .success(try q.route(from: from, to: to))) } catch { return (weights, .failure(error)) }
            }, completion: { [weak routing] (weights, found) in
                if known == nil { routing?.keep(hourWeights: weights, departAtMs: departAt) }
                answer(found)
            })
            return
        }
        if optimize == .distance && !routing.network.hasDistanceWeights {
            let network = routing.network, weights = live ? routing.weights : routing.network.freeFlow
            try workers.run({ () -> Result<Route?, RoutingError> in
                var q = network.makeQuery(weights: weights, optimize: .distance)
                do throws(RoutingError) { return .success(try q.route(from: from, to: to)) } catch { return .failure(error) }
            }, completion: answer)
            return
        }
        do throws(RoutingError) { answer(.success(try routing.route(from: from, to: to, live: live, optimize: optimize))) }
        catch { answer(.failure(error)) }
    }

    /// `GET /v1/eta?from=lat,lng&to=lat,lng`: `{"duration_s","distance_m"}` under live weights.
    func getETA(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting(request)
        let from = try RequestValues.point(request, "from"), to = try RequestValues.point(request, "to")
        var q = routing.query
        let found: Route?
        do { found = try q.route(from: from, to: to) } catch { throw Self.mapRoutingError(error) }
        guard let route = found else { throw APIError(.noRoute, "the destination is unreachable") }
        responder.respond(.json { w in
            w.beginObject()
            w.key("duration_s"); w.number(route.durationSeconds)
            w.key("distance_m"); w.number(route.distanceMeters)
            w.endObject()
        })
    }

    /// `POST /v1/route/matrix` `{"sources":[[lat,lng],…],"targets":[…][,"optimize":"time|distance"]}` →
    /// `{"durations_s":[[s|null,…],…],"distances_m":[[m|null,…],…]}` (each cell's two figures of one route),
    /// computed on a worker thread (a 1000×1000 matrix must not stall the loop).
    func postMatrix(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let body = try request.json()
        let routing = try requireRouting(request, body: body)
        func points(_ key: String) throws(APIError) -> [LatLng] {
            guard let list = body[key]?.array, !list.isEmpty, list.count <= 2_000 else {
                throw APIError(.invalidParameter, "\(key) must hold 1…2000 [lat,lng] pairs")
            }
            return try RequestValues.latLngPairs(list, code: .invalidCoordinate, what: "each point in \(key)")
        }
        let sources = try points("sources"), targets = try points("targets")
        let optimize = try Self.optimize(request, body: body)
        let departAt = try Self.departAt(request, body: body)
        let network = routing.network, profile = routing.profile
        let known = departAt.map { routing.weights(departAtMs: $0) } ?? routing.weights
        let job = known == nil ? departAt.map { routing.hourCustomization(departAtMs: $0) } : nil
        try workers.run((sources, targets), { input -> (RoutingWeights?, Result<TravelMatrix, RoutingError>) in
            guard let weights = known ?? job?.run() else { return (nil, .failure(RoutingError(.badInput, "no weights"))) }
            var q = network.makeQuery(weights: weights, optimize: optimize)
            do throws(RoutingError) { return (weights, .success(try q.table(sources: input.0, targets: input.1))) }
            catch { return (weights, .failure(error)) }
        }) { [weak routing] (weights, result) in
            if known == nil, let weights, let departAt { routing?.keep(hourWeights: weights, departAtMs: departAt) }
            switch result {
            case .failure(let error): responder.fail(Self.mapRoutingError(error))
            case .success(let table):
                responder.respond(.json { w in
                    w.beginObject()
                    for (key, rows) in [("durations_s", table.durationsSeconds), ("distances_m", table.distancesMeters)] {
                        w.key(key); w.beginArray()
                        for row in rows {
                            w.beginArray()
                            for v in row { if let v { w.number(v) } else { w.null() } }
                            w.endArray()
                        }
                        w.endArray()
                    }
                    w.key("optimize"); w.string(optimize.rawValue)
                    w.key("profile"); w.string(profile.rawValue)
                    w.endObject()
                })
            }
        }
    }

    /// `GET /v1/isochrone?lat=&lng=&max_s=[&format=cells|geojson][&resolution=9]`: the area reachable within `max_s`
    /// seconds on the live weights, from one one-to-all search. `cells` (default) answers
    /// `{"resolution","max_s","cells":[h3…],"nodes"}`: the H3 cell of every road node reached in time; `geojson`
    /// answers the union of those cells as a GeoJSON MultiPolygon.
    func getIsochrone(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting(request)
        guard let lat = try RequestValues.double(request, "lat"), let lng = try RequestValues.double(request, "lng") else {
            throw APIError(.invalidParameter, "lat and lng are required")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "lat,lng is out of range") }
        guard let maxSeconds = try RequestValues.double(request, "max_s"), maxSeconds > 0, maxSeconds <= Self.maxIsochroneSeconds else {
            throw APIError(.invalidParameter, "max_s must be a number of seconds in (0, \(Int(Self.maxIsochroneSeconds))]")
        }
        let resolution: Int
        if let text = request.query("resolution") {
            guard let r = Int(text), (0...15).contains(r) else { throw APIError(.invalidParameter, "resolution must be an integer 0…15") }
            resolution = r
        } else {
            resolution = 9
        }
        let format = request.query("format") ?? "cells"
        guard format == "cells" || format == "geojson" else { throw APIError(.invalidParameter, "format must be cells or geojson") }
        let cells: [H3Cell]
        do throws(RoutingError) {
            cells = try routing.isochroneCells(from: LatLng(degrees: lat, lng), maxSeconds: maxSeconds, resolution: resolution)
        } catch {
            throw Self.mapRoutingError(error)
        }
        if format == "cells" {
            responder.respond(.json { w in
                w.beginObject()
                w.key("resolution"); w.number(resolution)
                w.key("max_s"); w.number(maxSeconds)
                w.key("cells"); w.beginArray()
                for c in cells { w.string(c.description) }
                w.endArray()
                w.endObject()
            })
            return
        }
        let polygons = try H3.cellsToMultiPolygon(cells)
        responder.respond(.json { w in
            w.beginObject()
            w.key("type"); w.string("MultiPolygon")
            w.key("coordinates"); w.beginArray()
            for polygon in polygons {
                w.beginArray()
                for ring in polygon {
                    w.beginArray()
                    // GeoJSON rings repeat their first position at the end.
                    for p in ring + [ring[0]] { w.beginArray(); w.number(p.lngDegrees); w.number(p.latDegrees); w.endArray() }
                    w.endArray()
                }
                w.endArray()
            }
            w.endArray()
            w.endObject()
        })
    }

    /// The most fixes `POST /v1/match` takes.
    static let maxMatchPoints = 10_000
    /// Traces up to this many fixes are matched on the loop (about a millisecond); longer ones on a worker.
    static let inlineMatchPoints = 200

    /// The fixes of a `POST /v1/match` body: `{"points":[{"lat","lng"[,"ts"]},…]}`, 1…10,000 of them with valid
    /// coordinates and timestamps (milliseconds, optional) that never decrease.
    static func tracePoints(_ body: JSONValue) throws(APIError) -> [TracePoint] {
        guard case .object = body, let points = body["points"] else { throw APIError(.invalidParameter, "the body is {\"points\":[{\"lat\",\"lng\",\"ts\"},…]}") }
        guard let list = points.array else { throw APIError(.invalidParameter, "points must be an array") }
        guard !list.isEmpty else { throw APIError(.emptyTrace, "points is empty") }
        guard list.count <= maxMatchPoints else { throw APIError(.tooManyPoints, "at most \(maxMatchPoints) points") }
        var out: [TracePoint] = []
        out.reserveCapacity(list.count)
        var lastTs: Int64?
        for (i, p) in list.enumerated() {
            guard case .object = p, let lat = p["lat"]?.double, let lng = p["lng"]?.double, LatLng.isValidDegrees(lat: lat, lng: lng) else {
                throw APIError(.invalidPoint, "points[\(i)] needs lat in [-90, 90] and lng in [-180, 180]")
            }
            var ts: Int64?
            if let t = p["ts"], !t.isNull {
                guard let v = t.int64 else { throw APIError(.invalidPoint, "points[\(i)].ts must be integer milliseconds") }
                if let lastTs, v < lastTs { throw APIError(.nonMonotonicTimestamps, "points[\(i)].ts is earlier than the point before it") }
                lastTs = v
                ts = v
            }
            out.append(TracePoint(position: LatLng(degrees: lat, lng), timestampMs: ts))
        }
        return out
    }

    /// `POST /v1/match` `{"points":[{"lat","lng","ts"},…]}` → `{"distance_m","duration_s","polyline","matched":[{"lat",
    /// "lng","edge_offset_m"}|null,…],"confidence","breaks":[{"index","reason","bridged"}]}`: the most likely driven
    /// path (durations under the live weights). Long traces are matched on a worker thread.
    func postMatch(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting()
        let trace = try Self.tracePoints(try request.json())
        let network = routing.network, durations = routing.weights.edgeWeights
        let answer = { (match: MapMatch) in responder.respond(.json { w in Self.write(match, to: &w) }) }
        if trace.count <= Self.inlineMatchPoints {
            answer(routing.matchOnLoop(trace))
            return
        }
        try workers.run(trace, { input -> MapMatch in
            var matcher = MapMatcher(network: network, edgeDurationsMs: durations)
            return matcher.match(input)
        }) { match in answer(match) }
    }

    static func write(_ match: MapMatch, to w: inout JSONWriter) {
        w.beginObject()
        w.key("distance_m"); w.number(match.distanceMeters)
        w.key("duration_s"); w.number(match.durationSeconds)
        w.key("polyline"); w.string(match.polyline)
        w.key("matched"); w.beginArray()
        for m in match.matched {
            guard let m else { w.null(); continue }
            w.beginObject()
            w.key("lat"); w.number(m.position.latDegrees)
            w.key("lng"); w.number(m.position.lngDegrees)
            w.key("edge_offset_m"); w.number(m.offsetMeters)
            w.endObject()
        }
        w.endArray()
        w.key("confidence"); w.number(match.confidence)
        w.key("breaks"); w.beginArray()
        for b in match.breaks {
            w.beginObject()
            w.key("index"); w.number(b.index)
            w.key("reason"); w.string(b.reason.rawValue)
            w.key("bridged"); w.bool(b.bridged)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    /// The longest isochrone served (seconds): 3 hours.
    static let maxIsochroneSeconds = 10_800.0

    /// `GET /v1/map/roads`: the road network for the live map (public: it is map data, not fleet data).
    func getRoads(_ request: HTTPRequest, _ responder: Responder) throws {
        guard let routing = roads else {
            responder.respond(.json { w in w.beginObject(); w.key("segments"); w.beginArray(); w.endArray(); w.endObject() })
            return
        }
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=3600")],
                                       body: routing.roadSegments()))
    }
}

/// A road graph (`--graph`) that could not be loaded at start: names the file and what is wrong with it, so the
/// process exits with status 1 and a message an operator can act on.
struct GraphLoadError: Error, CustomStringConvertible {
    /// The file given to `--graph`.
    let path: String
    /// What the reader found (truncated, not a graph or PBF, a bad block…).
    let reason: String

    var description: String { "cannot load the road graph \(path): \(reason)" }
}

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
}

/// Routing on the road network: loads it (the configured graph, else the fixture city in demo mode), serves
/// route, ETA, matrix and map endpoints, and keeps live speeds from accepted pings, re-customizing the weights
/// on a worker about once a minute. Without a graph the endpoints answer `routing_unavailable`. Loop-owned.
final class RoutingService: EngineService {
    /// The loaded network and the weights in force; nil when no graph is configured.
    let roads: RoadState?
    private let auth: Authenticator
    private let workers: WorkQueue
    private let tickMs: UInt64
    private var ticksSinceCustomize = 0

    init(configuration: EngineConfiguration, ingest: IngestService, auth: Authenticator, workers: WorkQueue,
         logger: Logger) throws {
        self.auth = auth
        self.workers = workers
        tickMs = configuration.trackTickMs
        let path = configuration.graphPath ?? (configuration.demo ? Fixtures.path("monaco.osm.pbf") : nil)
        if let path {
            let cache = configuration.dataDirectory.map { $0 + "/graph-" + URL(fileURLWithPath: path).lastPathComponent + ".hfg" }
            let start = ContinuousClock.now
            let network: RoadNetwork
            do {
                network = try RoadNetwork.open(path: path, cachePath: cache)
            } catch {
                throw GraphLoadError(path: path, reason: "\(error)")
            }
            roads = RoadState(network: network)
            logger.info("road network loaded", metadata: [
                "path": "\(path)", "nodes": "\(network.graph.nodeCount)", "edges": "\(network.graph.edgeCount)",
                "took": "\(ContinuousClock.now - start)"])
        } else {
            roads = nil
        }
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
        routes.add(.get, "/v1/map/roads", getRoads)
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

    static func mapRoutingError(_ error: RoutingError) -> APIError {
        "\(error)".contains("noRoad") ? APIError(.noRoadNearby, "no routable road near the point")
            : APIError(.noRoute, "routing failed")
    }

    /// `GET /v1/route?from=lat,lng&to=lat,lng[&weights=live|free_flow]`: distance, duration, polyline.
    func getRoute(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting()
        let from = try RequestValues.point(request, "from"), to = try RequestValues.point(request, "to")
        let live = request.query("weights") != "free_flow"
        var q = live ? routing.query : routing.workerQuery(live: false)
        let found: Route?
        do { found = try q.route(from: from, to: to) } catch { throw Self.mapRoutingError(error) }
        guard let route = found else { throw APIError(.noRoute, "the destination is unreachable") }
        responder.respond(.json { w in
            w.beginObject()
            w.key("distance_m"); w.number(route.distanceMeters)
            w.key("duration_s"); w.number(route.durationSeconds)
            w.key("polyline"); w.string(route.polyline)
            w.key("nodes"); w.number(route.nodes.count)
            w.key("weights"); w.string(live ? "live" : "free_flow")
            w.endObject()
        })
    }

    /// `GET /v1/eta?from=lat,lng&to=lat,lng`: `{"duration_s","distance_m"}` under live weights.
    func getETA(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting()
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

    /// `POST /v1/route/matrix` `{"sources":[[lat,lng],…],"targets":[…]}` → `{"durations_s":[[s|null,…],…]}`,
    /// computed on a worker thread (a 1000×1000 matrix must not stall the loop).
    func postMatrix(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.principal(request)
        let routing = try requireRouting()
        let body = try request.json()
        func points(_ key: String) throws(APIError) -> [LatLng] {
            guard let list = body[key]?.array, !list.isEmpty, list.count <= 2_000 else {
                throw APIError(.invalidParameter, "\(key) must hold 1…2000 [lat,lng] pairs")
            }
            return try RequestValues.latLngPairs(list, code: .invalidCoordinate, what: "each point in \(key)")
        }
        let sources = try points("sources"), targets = try points("targets")
        let network = routing.network, weights = routing.weights
        try workers.run((sources, targets), { input -> Result<[[Double?]], RoutingError> in
            var q = network.makeQuery(weights: weights)
            do throws(RoutingError) { return .success(try q.matrix(sources: input.0, targets: input.1)) } catch { return .failure(error) }
        }) { result in
            switch result {
            case .failure(let error): responder.fail(Self.mapRoutingError(error))
            case .success(let rows):
                responder.respond(.json { w in
                    w.beginObject(); w.key("durations_s"); w.beginArray()
                    for row in rows {
                        w.beginArray()
                        for v in row { if let v { w.number(v) } else { w.null() } }
                        w.endArray()
                    }
                    w.endArray(); w.endObject()
                })
            }
        }
    }

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

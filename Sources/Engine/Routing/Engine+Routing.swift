import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import HexGeo
import Routing
import Vocabulary

extension APIError.Code {
    public static let routingUnavailable = APIError.Code("routing_unavailable", 503)
    public static let noRoute = APIError.Code("no_route", 422)
    public static let noRoadNearby = APIError.Code("no_road_nearby", 422)
}

extension Engine {
    /// Where the demo's road data lives: `fixtures/monaco.osm.pbf` under the working directory, or beside the
    /// repository the executable was built in.
    static func fixturePath(_ name: String) -> String? {
        var candidates = [FileManager.default.currentDirectoryPath + "/fixtures/" + name]
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("fixtures/" + name).path)
            dir.deleteLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Loads the road network (the configured graph, else the fixture city in demo mode) and registers the
    /// route, ETA, matrix and map endpoints; live speeds follow accepted pings.
    func installRouting() throws {
        let path = configuration.graphPath ?? (configuration.demo ? Self.fixturePath("monaco.osm.pbf") : nil)
        if let path {
            let cache = configuration.dataDirectory.map { $0 + "/graph-" + URL(fileURLWithPath: path).lastPathComponent + ".hfg" }
            let start = ContinuousClock.now
            let network = try RoadNetwork.open(path: path, cachePath: cache)
            routing = RoutingService(network: network)
            logger.info("road network loaded", metadata: [
                "path": "\(path)", "nodes": "\(network.graph.nodeCount)", "edges": "\(network.graph.edgeCount)",
                "took": "\(ContinuousClock.now - start)"])
            installLiveSpeeds()
        }
        extraRoutes.append { engine in
            engine.route(.get, "/v1/route", Engine.getRoute)
            engine.route(.get, "/v1/eta", Engine.getETA)
            engine.route(.post, "/v1/route/matrix", Engine.postMatrix)
            engine.route(.get, "/v1/map/roads", Engine.getRoads)
        }
    }

    private func installLiveSpeeds() {
        ingest.acceptedListeners.append { [unowned self] states, _ in
            guard let routing = self.routing else { return }
            for state in states {
                guard routing.observedThisTick < routing.maxObservationsPerTick else { return }
                routing.observedThisTick += 1
                _ = routing.traffic.observe(driverId: state.id.rawValue, position: state.position, timestampMs: state.timestampMs)
            }
        }
        var ticksSinceCustomize = 0
        tickHandlers.append { [unowned self] _ in
            guard let routing = self.routing else { return }
            routing.observedThisTick = 0
            ticksSinceCustomize += 1
            // Re-customize about once a minute, on a worker; the loop only swaps the finished weights in.
            guard ticksSinceCustomize * Int(self.configuration.trackTickMs) >= 60_000, !routing.customizing,
                  routing.traffic.observations > 0 else { return }
            ticksSinceCustomize = 0
            routing.customizing = true
            let job = routing.traffic.makeCustomization()
            try? self.workers.run(job, { $0.run() }) { [weak routing] weights in
                routing?.customizing = false
                routing?.use(weights)
            }
        }
    }

    func requireRouting() throws(APIError) -> RoutingService {
        guard let routing else { throw APIError(.routingUnavailable, "no road graph is loaded (serve --graph FILE)") }
        return routing
    }

    static func point(_ request: HTTPRequest, _ name: String) throws(APIError) -> LatLng {
        guard let text = request.query(name) else { throw APIError(.invalidParameter, "\(name)=lat,lng is required") }
        let parts = text.split(separator: ",")
        guard parts.count == 2, let lat = Double(parts[0]), let lng = Double(parts[1]) else {
            throw APIError(.invalidParameter, "\(name) must be lat,lng")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "\(name) is out of range") }
        return LatLng(degrees: lat, lng)
    }

    static func mapRoutingError(_ error: RoutingError) -> APIError {
        "\(error)".contains("noRoad") ? APIError(.noRoadNearby, "no routable road near the point")
            : APIError(.noRoute, "routing failed")
    }

    /// `GET /v1/route?from=lat,lng&to=lat,lng[&weights=live|free_flow]`: distance, duration, polyline.
    func getRoute(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try principal(request)
        let routing = try requireRouting()
        let from = try Self.point(request, "from"), to = try Self.point(request, "to")
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
        _ = try principal(request)
        let routing = try requireRouting()
        let from = try Self.point(request, "from"), to = try Self.point(request, "to")
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
        _ = try principal(request)
        let routing = try requireRouting()
        let body = try request.json()
        func points(_ key: String) throws(APIError) -> [LatLng] {
            guard let list = body[key]?.array, !list.isEmpty, list.count <= 2_000 else {
                throw APIError(.invalidParameter, "\(key) must hold 1…2000 [lat,lng] pairs")
            }
            return try Self.latLngPairs(list, code: .invalidCoordinate, what: "each point in \(key)")
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
        guard let routing else {
            responder.respond(.json { w in w.beginObject(); w.key("segments"); w.beginArray(); w.endArray(); w.endObject() })
            return
        }
        responder.respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=3600")],
                                       body: routing.roadSegments()))
    }
}

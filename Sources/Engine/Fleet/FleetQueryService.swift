import FleetIndex
import Foundation
import HTTPServer
import JSON
import HexGeo
import Vocabulary

/// Fleet queries over the live table: one driver, the k nearest, the drivers within cells or a polygon.
/// Reads the table the ingest service writes; owns nothing else. Loop-owned.
final class FleetQueryService: EngineService {
    private let table: DriverTable
    private let auth: Authenticator
    private let clock: EngineClock
    /// The other shards, when this engine is one of a cluster (docs/cluster.md); nil on one node.
    private let gatherer: (any FleetGatherer)?

    init(table: DriverTable, auth: Authenticator, clock: EngineClock, gatherer: (any FleetGatherer)? = nil) {
        self.table = table
        self.auth = auth
        self.clock = clock
        self.gatherer = gatherer
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/drivers/nearby", nearby)
        routes.add(.get, "/v1/drivers/within", within)
        routes.add(.post, "/v1/drivers/within", within)
        routes.add(.get, "/v1/drivers/{id}", getDriver)
    }

    private var nowMs: Int64 { clock.nowMs }

    /// `GET /v1/drivers/{id}` (admin, dispatcher, or the driver itself).
    func getDriver(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try DriverJSON.id(request)
        let caller = try auth.require(request, [.dispatcher, .driver])
        guard caller.role != .driver || caller.driverID == id else { throw APIError(.forbidden, "a driver sees only itself") }
        try answer(.driver(id), request, responder) { found, missing in
            guard let s = found.first else {
                let why = missing.isEmpty ? "no driver \(id)" : "no driver \(id) on the shards that answered"
                return .error(APIError(.driverNotFound, why))
            }
            return .json { w in DriverJSON.write(&w, s.state, node: s.node) }
        }
    }

    /// Answers `query` from this table, or, in a cluster and unless `scope=local`, from every shard
    /// (docs/cluster.md); `render` makes the response, to which a partial answer adds `X-Hexfleet-Partial`.
    private func answer(_ query: FleetQuery, _ request: HTTPRequest, _ responder: Responder,
                        render: @escaping (FleetAnswer, _ missing: [String]) -> HTTPResponse) throws {
        let scope = request.query("scope") ?? "cluster"
        guard scope == "cluster" || scope == "local" else { throw APIError(.invalidParameter, "scope is cluster or local") }
        let local = query.answer(from: table, nowMs: nowMs)
        guard scope == "cluster", let gatherer, gatherer.gathers else {
            responder.respond(render(local, []))
            return
        }
        gatherer.gather(query, local: local) { merged, missing in
            var response = render(merged, missing)
            if !missing.isEmpty { response.headers.append(("X-Hexfleet-Partial", missing.joined(separator: ","))) }
            responder.respond(response)
        }
    }

    /// `{"drivers":[…]}`, with `"partial":true,"missing_nodes":[…]` when some shard did not answer.
    private static func driverList(_ found: FleetAnswer, _ missing: [String]) -> HTTPResponse {
        .json { w in
            w.beginObject(); w.key("drivers"); w.beginArray()
            for d in found { DriverJSON.write(&w, d.state, distanceMeters: d.distanceMeters, node: d.node) }
            w.endArray()
            if !missing.isEmpty {
                w.key("partial"); w.bool(true)
                w.key("missing_nodes"); w.beginArray()
                for m in missing { w.string(m) }
                w.endArray()
            }
            w.endObject()
        }
    }

    static func statusFilter(_ request: HTTPRequest) throws(APIError) -> StatusFilter {
        guard let text = request.query("status"), !text.isEmpty else { return .all }
        var f: StatusFilter = []
        for name in text.split(separator: ",") {
            guard let s = DriverStatus(name: String(name)) else { throw APIError(.invalidStatus, "unknown status \(name)") }
            f.insert(StatusFilter(s))
        }
        return f
    }

    /// `GET /v1/drivers/nearby?lat=&lng=&k=&radius_m=&status=`: the true k nearest, nearest first.
    func nearby(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        guard let lat = try RequestValues.double(request, "lat"), let lng = try RequestValues.double(request, "lng") else {
            throw APIError(.invalidParameter, "lat and lng are required")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "lat/lng out of range") }
        var k = 10
        if let text = request.query("k") {
            guard let v = Int(text), v >= 1, v <= 1_000 else { throw APIError(.invalidParameter, "k must be 1…1000") }
            k = v
        }
        var radius = Double.infinity
        if let r = try RequestValues.double(request, "radius_m") {
            guard r >= 0 else { throw APIError(.invalidParameter, "radius_m must be ≥ 0") }
            radius = r
        }
        let filter = try Self.statusFilter(request)
        try answer(.nearby(LatLng(degrees: lat, lng), k: k, radiusMeters: radius, filter), request, responder,
                   render: Self.driverList)
    }

    /// `GET /v1/drivers/within?cells=a,b,…` or `?polygon=lat,lng;lat,lng;…`, and `POST /v1/drivers/within`
    /// with `{"cells":[…]}` or `{"polygon":[[lat,lng],…],"holes":[[[lat,lng],…]]}`.
    func within(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let filter = try Self.statusFilter(request)
        let query: FleetQuery
        if request.method == .post {
            let body = try request.json()
            if let cells = body["cells"]?.array {
                query = .cells(try Self.cells(cells.map { $0.string ?? "" }), filter)
            } else if let ring = body["polygon"] {
                let outer = try Self.ring(ring)
                let holes = try (body["holes"]?.array ?? []).map { v throws(APIError) in try Self.ring(v) }
                query = .polygon(GeoPolygon(outer: outer, holes: holes), filter)
            } else {
                throw APIError(.invalidParameter, "give cells or polygon")
            }
        } else if let cells = request.query("cells") {
            query = .cells(try Self.cells(cells.split(separator: ",").map(String.init)), filter)
        } else if let polygon = request.query("polygon") {
            var outer: [LatLng] = []
            for pair in polygon.split(separator: ";") {
                let parts = pair.split(separator: ",")
                guard parts.count == 2, let la = Double(parts[0]), let lo = Double(parts[1]),
                      LatLng.isValidDegrees(lat: la, lng: lo) else {
                    throw APIError(.invalidPolygon, "polygon is lat,lng pairs joined by ;")
                }
                outer.append(LatLng(degrees: la, lo))
            }
            guard outer.count >= 3 else { throw APIError(.invalidPolygon, "a polygon needs at least 3 vertices") }
            query = .polygon(GeoPolygon(outer: outer), filter)
        } else {
            throw APIError(.invalidParameter, "give cells or polygon")
        }
        try answer(query, request, responder, render: Self.driverList)
    }

    /// Validated cells of a `within` query.
    private static func cells(_ texts: [String]) throws(APIError) -> [H3Cell] {
        guard !texts.isEmpty, texts.count <= 10_000 else { throw APIError(.invalidParameter, "give 1…10000 cells") }
        var cells: [H3Cell] = []
        for t in texts {
            guard let c = H3Cell(string: t), H3.isValidCell(c) else { throw APIError(.invalidCell, "not a valid H3 cell: \(t.prefix(20))") }
            cells.append(c)
        }
        return cells
    }

    static func ring(_ v: JSONValue) throws(APIError) -> [LatLng] {
        guard let points = v.array, points.count >= 3, points.count <= 10_000 else {
            throw APIError(.invalidPolygon, "a ring is 3…10000 [lat,lng] pairs")
        }
        return try RequestValues.latLngPairs(points, code: .invalidPolygon, what: "each vertex")
    }
}

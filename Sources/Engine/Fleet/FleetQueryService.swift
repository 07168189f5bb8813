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

    init(table: DriverTable, auth: Authenticator, clock: EngineClock) {
        self.table = table
        self.auth = auth
        self.clock = clock
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
        guard let s = table.state(of: id) else { throw APIError(.driverNotFound, "no driver \(id)") }
        responder.respond(.json { w in
            DriverJSON.write(&w, s)
        })
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
        var found: [NearbyDriver] = []
        table.nearest(to: LatLng(degrees: lat, lng), k: k, maxRadiusMeters: radius, statuses: filter, nowMs: nowMs, into: &found)
        responder.respond(.json { w in
            w.beginObject(); w.key("drivers"); w.beginArray()
            for d in found { DriverJSON.write(&w, d.state, distanceMeters: d.distanceMeters) }
            w.endArray(); w.endObject()
        })
    }

    /// `GET /v1/drivers/within?cells=a,b,…` or `?polygon=lat,lng;lat,lng;…`, and `POST /v1/drivers/within`
    /// with `{"cells":[…]}` or `{"polygon":[[lat,lng],…],"holes":[[[lat,lng],…]]}`.
    func within(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let filter = try Self.statusFilter(request)
        var states: [DriverState]
        if request.method == .post {
            let body = try request.json()
            if let cells = body["cells"]?.array {
                states = try drivers(inCells: cells.map { $0.string ?? "" }, filter: filter)
            } else if let ring = body["polygon"] {
                let outer = try Self.ring(ring)
                let holes = try (body["holes"]?.array ?? []).map { v throws(APIError) in try Self.ring(v) }
                states = table.drivers(in: GeoPolygon(outer: outer, holes: holes), statuses: filter, nowMs: nowMs)
            } else {
                throw APIError(.invalidParameter, "give cells or polygon")
            }
        } else if let cells = request.query("cells") {
            states = try drivers(inCells: cells.split(separator: ",").map(String.init), filter: filter)
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
            states = table.drivers(in: GeoPolygon(outer: outer), statuses: filter, nowMs: nowMs)
        } else {
            throw APIError(.invalidParameter, "give cells or polygon")
        }
        responder.respond(.json { w in
            w.beginObject(); w.key("drivers"); w.beginArray()
            for s in states { DriverJSON.write(&w, s) }
            w.endArray(); w.endObject()
        })
    }

    private func drivers(inCells texts: [String], filter: StatusFilter) throws(APIError) -> [DriverState] {
        guard !texts.isEmpty, texts.count <= 10_000 else { throw APIError(.invalidParameter, "give 1…10000 cells") }
        var cells: [H3Cell] = []
        for t in texts {
            guard let c = H3Cell(string: t), H3.isValidCell(c) else { throw APIError(.invalidCell, "not a valid H3 cell: \(t.prefix(20))") }
            cells.append(c)
        }
        do { return try table.drivers(inCells: cells, statuses: filter, nowMs: nowMs) } catch {
            throw APIError(.invalidCell, "invalid cell")
        }
    }

    static func ring(_ v: JSONValue) throws(APIError) -> [LatLng] {
        guard let points = v.array, points.count >= 3, points.count <= 10_000 else {
            throw APIError(.invalidPolygon, "a ring is 3…10000 [lat,lng] pairs")
        }
        return try RequestValues.latLngPairs(points, code: .invalidPolygon, what: "each vertex")
    }
}

import FleetIndex
import Foundation
import HTTPServer
import HexGeo
import JSON

extension Engine {
    /// Writes a driver as `{"id","lat","lng","status","ts","speed","heading","accuracy"[,"distance_m"]}`.
    static func writeDriver(_ w: inout JSONWriter, _ s: DriverState, distanceMeters: Double? = nil) {
        w.beginObject()
        w.key("id"); w.number(s.id.rawValue)
        w.key("lat"); w.number(s.latDegrees)
        w.key("lng"); w.number(s.lngDegrees)
        w.key("status"); w.string(s.status.name)
        w.key("ts"); w.number(s.timestampMs)
        w.key("speed"); w.number(s.speedCmPerSecond)
        w.key("heading"); w.number(s.headingCentidegrees)
        w.key("accuracy"); w.number(s.accuracyDecimetres)
        if let distanceMeters { w.key("distance_m"); w.number(distanceMeters) }
        w.endObject()
    }

    static func driverID(_ request: HTTPRequest) throws(APIError) -> UInt64 {
        guard let text = request.parameter("id"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "driver id must be an unsigned 64-bit integer")
        }
        return id
    }

    /// A record from a JSON ping (`lat`, `lng` in degrees; `ts` ms, default now; `speed` cm/s; `heading`
    /// centidegrees; `accuracy` dm; `status` by name), the same fields as the binary record.
    func record(fromJSON body: JSONValue, driver: UInt64) throws(APIError) -> PingRecord {
        guard case .object = body else { throw APIError(.invalidJSON, "a ping is a JSON object") }
        guard let lat = body["lat"]?.double, let lng = body["lng"]?.double,
              LatLng.isValidDegrees(lat: lat, lng: lng) else {
            throw APIError(.invalidCoordinate, "lat must be in [-90, 90] and lng in [-180, 180]")
        }
        var status: UInt8 = DriverStatus.available.rawValue
        if let name = body["status"] {
            guard let s = name.string.flatMap(DriverStatus.init(name:)) else {
                throw APIError(.invalidStatus, "status must be offline, available, to_pickup, on_trip or break")
            }
            status = s.rawValue
        }
        func u16(_ key: String, _ fallback: UInt16, max: UInt16) throws(APIError) -> UInt16 {
            guard let v = body[key], !v.isNull else { return fallback }
            guard let n = v.int64, n >= 0, n <= Int64(max) || (n == 65_535 && key != "speed") else {
                throw APIError(.unprocessable, "\(key) is out of range")
            }
            return UInt16(n)
        }
        var ts = nowMs
        if let t = body["ts"], !t.isNull {
            guard let v = t.int64 else { throw APIError(.unprocessable, "ts must be integer milliseconds since the epoch") }
            ts = v
        }
        return PingRecord(driverID: driver, timestampMs: ts, latE7: Int32((lat * 1e7).rounded()),
                          lngE7: Int32((lng * 1e7).rounded()), speedCmPerSecond: try u16("speed", 0, max: 65_535),
                          headingCentidegrees: try u16("heading", 65_535, max: 35_999),
                          accuracyDecimetres: try u16("accuracy", 65_535, max: 65_534), status: status)
    }

    /// Maps an ingest drop to the API error a JSON client sees.
    static func apiError(_ reason: DropReason) -> APIError {
        switch reason {
        case .replay: APIError(.staleTimestamp, "a fix at or after this timestamp was already accepted")
        case .skew: APIError(.timestampSkew, "ts is too far from the server clock")
        case .range: APIError(.invalidCoordinate, "a field is out of range")
        default: APIError(.badRequest, "ping refused: \(reason.label)")
        }
    }

    /// `POST /v1/drivers/{id}/location`: the fallback ingest (admin, or the driver itself).
    func postLocation(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.driverID(request)
        let caller = try require(request, [.driver])
        guard caller.isAdmin || caller.subject == String(id) else { throw APIError(.forbidden, "a driver can move only itself") }
        let r = try record(fromJSON: try request.json(), driver: id)
        if let reason = ingest.ingest(r, transport: .http, nowMs: nowMs) { throw Self.apiError(reason) }
        let s = table.state(of: DriverID(id))!
        responder.respond(.json(status: 202) { w in Self.writeDriver(&w, s) })
    }

    /// `GET /v1/drivers/{id}` (admin, dispatcher, or the driver itself).
    func getDriver(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.driverID(request)
        let caller = try require(request, [.dispatcher, .driver])
        guard caller.role != .driver || caller.subject == String(id) else { throw APIError(.forbidden, "a driver sees only itself") }
        guard let s = table.state(of: DriverID(id)) else { throw APIError(.driverNotFound, "no driver \(id)") }
        responder.respond(.json { w in
            Self.writeDriver(&w, s)
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

    static func double(_ request: HTTPRequest, _ name: String) throws(APIError) -> Double? {
        guard let text = request.query(name) else { return nil }
        guard let v = Double(text), v.isFinite else { throw APIError(.invalidParameter, "\(name) must be a number") }
        return v
    }

    /// `GET /v1/drivers/nearby?lat=&lng=&k=&radius_m=&status=`: the true k nearest, nearest first.
    func nearby(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try require(request, [.dispatcher])
        guard let lat = try Self.double(request, "lat"), let lng = try Self.double(request, "lng") else {
            throw APIError(.invalidParameter, "lat and lng are required")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "lat/lng out of range") }
        var k = 10
        if let text = request.query("k") {
            guard let v = Int(text), v >= 1, v <= 1_000 else { throw APIError(.invalidParameter, "k must be 1…1000") }
            k = v
        }
        var radius = Double.infinity
        if let r = try Self.double(request, "radius_m") {
            guard r >= 0 else { throw APIError(.invalidParameter, "radius_m must be ≥ 0") }
            radius = r
        }
        let filter = try Self.statusFilter(request)
        var found: [NearbyDriver] = []
        table.nearest(to: LatLng(degrees: lat, lng), k: k, maxRadiusMeters: radius, statuses: filter, nowMs: nowMs, into: &found)
        responder.respond(.json { w in
            w.beginObject(); w.key("drivers"); w.beginArray()
            for d in found { Self.writeDriver(&w, d.state, distanceMeters: d.distanceMeters) }
            w.endArray(); w.endObject()
        })
    }

    /// `GET /v1/drivers/within?cells=a,b,…` or `?polygon=lat,lng;lat,lng;…`, and `POST /v1/drivers/within`
    /// with `{"cells":[…]}` or `{"polygon":[[lat,lng],…],"holes":[[[lat,lng],…]]}`.
    func within(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try require(request, [.dispatcher])
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
            for s in states { Self.writeDriver(&w, s) }
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
        return try latLngPairs(points, code: .invalidPolygon, what: "each vertex")
    }

    /// `[[lat, lng], …]` in degrees, every pair checked for range; `what` names the items in the error.
    static func latLngPairs(_ list: [JSONValue], code: APIError.Code, what: String) throws(APIError) -> [LatLng] {
        var out: [LatLng] = []
        out.reserveCapacity(list.count)
        for p in list {
            guard let pair = p.array, pair.count == 2, let la = pair[0].double, let lo = pair[1].double,
                  LatLng.isValidDegrees(lat: la, lng: lo) else {
                throw APIError(code, "\(what) is [lat, lng] in range")
            }
            out.append(LatLng(degrees: la, lo))
        }
        return out
    }
}

import HTTPServer
import HexGeo
import JSON
import Marketplace
import Vocabulary

/// What a fence detects: a set of event kinds.
struct FenceDetect: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let enter = FenceDetect(rawValue: 1)
    static let exit = FenceDetect(rawValue: 2)
    static let inside = FenceDetect(rawValue: 4)
    static let outside = FenceDetect(rawValue: 8)
    static let cross = FenceDetect(rawValue: 16)
    static let `default`: FenceDetect = [.enter, .exit]

    /// The kind for each wire name, in wire order.
    static let names: [(String, FenceDetect)] = [("enter", .enter), ("exit", .exit), ("inside", .inside),
                                                   ("outside", .outside), ("cross", .cross)]
}

/// The area a fence watches, as registered.
enum FenceArea: Sendable {
    /// A fixed area: circle, polygon or cells.
    case fixed(FenceShape)
    /// Within `radiusMeters` of a moving driver (a roaming fence).
    case nearDriver(DriverID, radiusMeters: Double)
    /// Within `maxSeconds` of driving from a point on the live weights.
    case driveTime(center: LatLng, maxSeconds: Double)
}

/// A registered fence: its area, what it detects and for whom, and where its events go. Parsed and checked from
/// the `POST /v1/fences` body; `json` is the canonical form stored and answered.
struct FenceDefinition: Sendable {
    static let maxIDBytes = 64
    static let maxMetaBytes = 4_096
    static let maxRadiusMeters = 50_000.0
    static let maxRoamingRadiusMeters = 10_000.0
    static let maxDriveTimeSeconds = 3_600.0
    static let maxCells = 10_000
    static let maxVertices = 10_000
    static let maxRings = 64
    static let maxDrivers = 10_000
    static let maxDwellSeconds = 86_400.0

    var id: String
    var area: FenceArea
    var detect: FenceDetect
    var dwellMs: Int64
    /// nil: every status.
    var statuses: StatusFilter?
    /// nil: every driver.
    var drivers: Set<DriverID>?
    var expiresAtMs: Int64?
    /// The `meta` object as JSON text, or nil.
    var meta: [UInt8]?
    var webhook: String?
    var createdAtMs: Int64
    /// The shape as given (canonical JSON), answered by `GET`.
    var shapeJSON: JSONValue

    /// Parses and checks a request body. `makeID` supplies an id when the body has none; `checkExpiry` is off when
    /// reloading stored fences (those past their expiry are dropped by the caller).
    static func parse(_ body: JSONValue, nowMs: Int64, checkExpiry: Bool = true,
                      makeID: () -> String) throws(APIError) -> FenceDefinition {
        guard body.object != nil else { throw APIError(.badRequest, "a fence is a JSON object") }
        let id: String
        if let v = body["id"], !v.isNull {
            guard let s = v.string, !s.isEmpty, s.utf8.count <= maxIDBytes else {
                throw APIError(.invalidFenceID, "id is a string of 1–\(maxIDBytes) bytes")
            }
            guard s != "containing" else { throw APIError(.invalidFenceID, "id \"containing\" is reserved") }
            guard !s.hasPrefix("order:") else { throw APIError(.invalidFenceID, "ids starting with order: are reserved") }
            id = s
        } else {
            id = makeID()
        }
        guard let shapeValue = body["shape"], shapeValue.object != nil else {
            throw APIError(.invalidShape, "shape is an object with a type")
        }
        let area = try parseArea(shapeValue)

        var detect = FenceDetect.default
        if let v = body["detect"], !v.isNull {
            guard let list = v.array, !list.isEmpty else { throw APIError(.invalidDetect, "detect is a non-empty list") }
            detect = []
            for item in list {
                guard let name = item.string, let kind = FenceDetect.names.first(where: { $0.0 == name })?.1 else {
                    throw APIError(.invalidDetect, "detect values are enter, exit, inside, outside, cross")
                }
                detect.insert(kind)
            }
        }
        if case .nearDriver = area, !detect.isSubset(of: [.enter, .exit, .inside]) {
            throw APIError(.invalidDetect, "a near_driver fence detects enter, exit and inside only")
        }
        var dwellMs: Int64 = 0
        if let v = body["dwell_s"], !v.isNull {
            guard let s = v.double, s.isFinite, s >= 0, s <= maxDwellSeconds else {
                throw APIError(.invalidDwell, "dwell_s is a number of seconds in 0…\(Int(maxDwellSeconds))")
            }
            dwellMs = Int64((s * 1000).rounded())
        }
        var statuses: StatusFilter?
        if let v = body["statuses"], !v.isNull {
            guard let list = v.array, !list.isEmpty else { throw APIError(.invalidStatuses, "statuses is a non-empty list") }
            var f = StatusFilter(rawValue: 0)
            for item in list {
                guard let name = item.string, let s = DriverStatus(name: name) else {
                    throw APIError(.invalidStatuses, "statuses are offline, available, to_pickup, on_trip, break")
                }
                f.insert(StatusFilter(s))
            }
            statuses = f
        }
        var drivers: Set<DriverID>?
        if let v = body["drivers"], !v.isNull {
            guard let list = v.array, !list.isEmpty, list.count <= maxDrivers else {
                throw APIError(.invalidDrivers, "drivers is a list of 1–\(maxDrivers) driver ids")
            }
            var set = Set<DriverID>()
            for item in list {
                guard let n = item.uint64 else { throw APIError(.invalidDrivers, "a driver id is an unsigned 64-bit integer") }
                set.insert(DriverID(n))
            }
            drivers = set
        }
        var expires: Int64?
        if let v = body["expires_at_ms"], !v.isNull {
            guard let ms = v.int64, ms > 0 else { throw APIError(.invalidExpires, "expires_at_ms is a time in milliseconds") }
            if checkExpiry && ms <= nowMs { throw APIError(.invalidExpires, "expires_at_ms is in the past") }
            expires = ms
        }
        var meta: [UInt8]?
        if let v = body["meta"], !v.isNull {
            guard v.object != nil else { throw APIError(.invalidMeta, "meta is a JSON object") }
            var w = JSONWriter(capacity: 256)
            w.value(v)
            guard w.bytes.count <= maxMetaBytes else {
                throw APIError(.metaTooLarge, "meta is \(w.bytes.count) bytes as JSON; at most \(maxMetaBytes)")
            }
            meta = w.bytes
        }
        var webhook: String?
        if let v = body["webhook"], !v.isNull {
            guard let url = v.string, url.utf8.count <= 2_048, HTTPWebhookTransport.canPost(to: url) else {
                throw APIError(.invalidWebhook, "webhook is an http://host[:port][/path] URL (https is not supported)")
            }
            webhook = url
        }
        let created = body["created_at_ms"]?.int64 ?? nowMs
        return FenceDefinition(id: id, area: area, detect: detect, dwellMs: dwellMs, statuses: statuses, drivers: drivers,
                               expiresAtMs: expires, meta: meta, webhook: webhook, createdAtMs: created,
                               shapeJSON: shapeKeys(shapeValue))
    }

    /// The members of each shape type; others a client sends are not kept, so a fence reads back as its type
    /// describes it (a stray `max_s` on a circle is not echoed as if it were a drive time).
    static let shapeMembers: [String: Set<String>] = [
        "circle": ["type", "center", "radius_m"], "polygon": ["type", "rings"], "cells": ["type", "cells"],
        "near_driver": ["type", "driver", "radius_m"], "drive_time": ["type", "center", "max_s"],
    ]

    /// `shape` with only its type's members (`parseArea` has accepted it).
    static func shapeKeys(_ shape: JSONValue) -> JSONValue {
        guard case .object(let members) = shape, let type = shape["type"]?.string, let kept = shapeMembers[type] else { return shape }
        return .object(members.filter { kept.contains($0.0) })
    }

    static func parseArea(_ v: JSONValue) throws(APIError) -> FenceArea {
        guard let type = v["type"]?.string else { throw APIError(.invalidShape, "shape.type is a string") }
        switch type {
        case "circle":
            let c = try point(v["center"], "shape.center")
            let r = try radius(v["radius_m"], max: maxRadiusMeters)
            return .fixed(.circle(center: c, radiusMeters: r))
        case "polygon":
            guard let rings = v["rings"]?.array, !rings.isEmpty, rings.count <= maxRings else {
                throw APIError(.invalidShape, "shape.rings is a list of 1–\(maxRings) rings of [lat, lng] points")
            }
            var loops: [[LatLng]] = []
            var total = 0
            for ring in rings {
                guard let pts = ring.array else { throw APIError(.invalidShape, "a ring is a list of [lat, lng] points") }
                var loop = try RequestValues.latLngPairs(pts, code: .invalidShape, what: "a ring point")
                if loop.count > 1, loop.first == loop.last { loop.removeLast() }
                guard Set(loop).count >= 3 else { throw APIError(.invalidShape, "a ring has at least 3 distinct points") }
                total += loop.count
                guard total <= maxVertices else { throw APIError(.invalidShape, "at most \(maxVertices) points in all") }
                loops.append(loop)
            }
            return .fixed(.polygon(GeoPolygon(outer: loops[0], holes: Array(loops.dropFirst()))))
        case "cells":
            guard let list = v["cells"]?.array, !list.isEmpty, list.count <= maxCells else {
                throw APIError(.invalidShape, "shape.cells is a list of 1–\(maxCells) H3 cells")
            }
            var cells: [H3Cell] = []
            for item in list {
                guard let s = item.string, let c = H3Cell(string: s), H3.isValidCell(c) else {
                    throw APIError(.invalidShape, "a cell is an H3 index in hex (e.g. 89283082803ffff)")
                }
                cells.append(c)
            }
            do { return .fixed(.cells(try FenceCellSet(cells))) } catch {
                throw APIError(.invalidShape, "a cell is not a valid H3 cell")
            }
        case "near_driver":
            guard let d = v["driver"]?.uint64 else { throw APIError(.invalidShape, "shape.driver is an unsigned 64-bit id") }
            return .nearDriver(DriverID(d), radiusMeters: try radius(v["radius_m"], max: maxRoamingRadiusMeters))
        case "drive_time":
            let c = try point(v["center"], "shape.center")
            guard let s = v["max_s"]?.double, s.isFinite, s > 0, s <= maxDriveTimeSeconds else {
                throw APIError(.invalidRadius, "shape.max_s is a number of seconds in (0, \(Int(maxDriveTimeSeconds))]")
            }
            return .driveTime(center: c, maxSeconds: s)
        default:
            throw APIError(.invalidShape, "shape.type is circle, polygon, cells, near_driver or drive_time")
        }
    }

    static func point(_ v: JSONValue?, _ name: String) throws(APIError) -> LatLng {
        guard let v, let lat = v["lat"]?.double, let lng = v["lng"]?.double else {
            throw APIError(.invalidShape, "\(name) is {\"lat\":…,\"lng\":…}")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidShape, "\(name) is out of range") }
        return LatLng(degrees: lat, lng)
    }

    static func radius(_ v: JSONValue?, max: Double) throws(APIError) -> Double {
        guard let r = v?.double, r.isFinite, r > 0, r <= max else {
            throw APIError(.invalidRadius, "shape.radius_m is a number of meters in (0, \(Int(max))]")
        }
        return r
    }

    /// The canonical JSON of the fence (what is stored and answered).
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("shape"); w.value(shapeJSON)
        w.key("detect"); w.beginArray()
        for (name, kind) in FenceDetect.names where detect.contains(kind) { w.string(name) }
        w.endArray()
        w.key("dwell_s"); w.number(Double(dwellMs) / 1000)
        if let statuses {
            w.key("statuses"); w.beginArray()
            for s in DriverStatus.allCases where statuses.contains(s) { w.string(s.name) }
            w.endArray()
        }
        if let drivers {
            w.key("drivers"); w.beginArray()
            for d in drivers.sorted() { w.number(d.rawValue) }
            w.endArray()
        }
        if let expiresAtMs { w.key("expires_at_ms"); w.number(expiresAtMs) }
        if let meta { w.key("meta"); w.raw(meta) }
        if let webhook { w.key("webhook"); w.string(webhook) }
        w.key("created_at_ms"); w.number(createdAtMs)
        w.endObject()
    }

    /// The canonical JSON as bytes.
    var json: [UInt8] {
        var w = JSONWriter(capacity: 256)
        write(&w)
        return w.bytes
    }

    /// Whether the fence has expired by `nowMs`.
    @inline(__always)
    func isExpired(_ nowMs: Int64) -> Bool {
        if let e = expiresAtMs { return e <= nowMs }
        return false
    }

    /// Whether a driver with this id and status is watched.
    @inline(__always)
    func watches(_ driver: DriverID, _ status: DriverStatus) -> Bool {
        if let statuses, !statuses.contains(status) { return false }
        if let drivers, !drivers.contains(driver) { return false }
        return true
    }
}

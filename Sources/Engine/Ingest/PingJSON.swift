import HTTPServer
import JSON
import Vocabulary

/// A ping as JSON (`POST /v1/drivers/{id}/location`, the driver channel's text messages): the same fields as
/// the binary record, and the API error a refused ping answers with.
enum PingJSON {
    /// A record from a JSON ping (`lat`, `lng` in degrees; `ts` ms, default now; `speed` cm/s; `heading`
    /// centidegrees; `accuracy` dm; `status` by name).
    static func record(_ body: JSONValue, driver: DriverID, nowMs: Int64) throws(APIError) -> PingRecord {
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
        return PingRecord(driverID: driver.rawValue, timestampMs: ts, latE7: Int32((lat * 1e7).rounded()),
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
}

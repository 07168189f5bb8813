import HTTPServer
import JSON
import Vocabulary

/// Values read from requests by more than one service: points, point lists and numbers, each range-checked.
enum RequestValues {
    /// `?name=lat,lng` in degrees.
    static func point(_ request: HTTPRequest, _ name: String) throws(APIError) -> LatLng {
        guard let text = request.query(name) else { throw APIError(.invalidParameter, "\(name)=lat,lng is required") }
        let parts = text.split(separator: ",")
        guard parts.count == 2, let lat = Double(parts[0]), let lng = Double(parts[1]) else {
            throw APIError(.invalidParameter, "\(name) must be lat,lng")
        }
        guard LatLng.isValidDegrees(lat: lat, lng: lng) else { throw APIError(.invalidCoordinate, "\(name) is out of range") }
        return LatLng(degrees: lat, lng)
    }

    /// `?name=` as a finite number, or nil when absent.
    static func double(_ request: HTTPRequest, _ name: String) throws(APIError) -> Double? {
        guard let text = request.query(name) else { return nil }
        guard let v = Double(text), v.isFinite else { throw APIError(.invalidParameter, "\(name) must be a number") }
        return v
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

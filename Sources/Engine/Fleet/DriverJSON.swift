import FleetIndex
import HTTPServer
import JSON
import Vocabulary

/// The one writer of a driver's state on the HTTP API.
enum DriverJSON {
    /// Writes a driver as `{"id","lat","lng","status","ts","speed","heading","accuracy"[,"distance_m"][,"node"]}`
    /// (`node`: the shard holding the driver, in a cluster).
    static func write(_ w: inout JSONWriter, _ s: DriverState, distanceMeters: Double? = nil, node: String? = nil) {
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
        if let node { w.key("node"); w.string(node) }
        w.endObject()
    }

    /// The `{id}` path parameter of a driver route.
    static func id(_ request: HTTPRequest) throws(APIError) -> DriverID {
        guard let text = request.parameter("id"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "driver id must be an unsigned 64-bit integer")
        }
        return DriverID(id)
    }
}

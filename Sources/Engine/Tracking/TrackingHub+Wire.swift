import HTTPServer
import HexGeo
import JSON

/// The JSON of `/v1/ws/track` commands and of the hub's answers to them (docs/websocket.md). Nothing here reads the
/// hub's state.
extension TrackingHub {
    // MARK: Command arguments

    static func bbox(_ v: JSONValue) throws(APIError) -> TrackBBox {
        guard let a = v.array, a.count == 4, let minLat = a[0].double, let minLng = a[1].double,
              let maxLat = a[2].double, let maxLng = a[3].double,
              let b = TrackBBox(minLat: minLat, minLng: minLng, maxLat: maxLat, maxLng: maxLng) else {
            throw APIError(.invalidBBox, "bbox is [minLat, minLng, maxLat, maxLng] in degrees, min ≤ max")
        }
        return b
    }

    static func writeBBox(_ w: inout JSONWriter, _ v: JSONValue) {
        w.beginArray()
        for x in v.array ?? [] { w.number(x.double ?? 0) }
        w.endArray()
    }

    static func cells(_ v: JSONValue, max: Int) throws(APIError) -> [H3Cell] {
        guard let a = v.array, !a.isEmpty else { throw APIError(.invalidCell, "cells is a non-empty array of H3 cells") }
        guard a.count <= max else { throw APIError(.tooManySubscriptions, "at most \(max) cells per message") }
        var out: [H3Cell] = []
        out.reserveCapacity(a.count)
        for x in a {
            guard let t = x.string, let c = H3Cell(string: t), H3.isValidCell(c) else {
                throw APIError(.invalidCell, "not a valid H3 cell: \((x.string ?? "?").prefix(20))")
            }
            out.append(c)
        }
        return out
    }

    // MARK: Answers

    func sendError(_ sub: TrackingSubscriber, _ error: APIError) {
        sub.connection.send(textBytes: SocketErrorMessage.bytes(error))
    }

    func ack(_ sub: TrackingSubscriber, _ type: String, _ body: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.key("type"); w.string(type)
        body(&w)
        w.endObject()
        sub.connection.send(textBytes: w.bytes)
    }
}

import HTTPServer
import JSON

/// The one writer of the error message both WebSocket channels send: `{"type":"error","code","message"}`, every
/// string escaped.
enum SocketErrorMessage {
    /// The message for an API error.
    static func bytes(_ error: APIError) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.key("type"); w.string("error")
        w.key("code"); w.string(error.code.name)
        w.key("message"); w.string(error.message)
        w.endObject()
        return w.bytes
    }
}

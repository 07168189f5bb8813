import JSON

/// Pushes `{"type":"notification","event":…,"title":…,"text":…,"payload":{…}}` to customers and couriers.
public final class WebSocketPushSink: NotificationSink {
    public let name = "websocket"
    private let transport: any WebSocketPushTransport

    /// A sink over the Engine's transport.
    public init(transport: any WebSocketPushTransport) { self.transport = transport }

    public func deliver(_ notification: OutboundNotification) {
        let text = Self.message(notification)
        for r in notification.recipients where r != .operators { transport.push(text: text, to: r) }
    }

    /// The push message for `n`.
    static func message(_ n: OutboundNotification) -> String {
        var w = JSONWriter(capacity: 192 + n.payload.count)
        w.beginObject()
        w.key("type"); w.string("notification")
        w.key("event"); w.string(n.event)
        w.key("title"); w.string(n.title)
        w.key("text"); w.string(n.text)
        w.key("payload"); w.raw(n.payload)
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

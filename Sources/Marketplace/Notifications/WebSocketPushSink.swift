/// Pushes `{"type":"notification","event":…,"title":…,"text":…,"payload":{…}}` to customers and couriers.
public final class WebSocketPushSink: NotificationSink {
    public let name = "websocket"
    private let transport: any WebSocketPushTransport

    /// A sink over the Engine's transport.
    public init(transport: any WebSocketPushTransport) { self.transport = transport }

    public func deliver(_ notification: OutboundNotification) {
        let text = "{\"type\":\"notification\",\"event\":\(LogSink.jsonString(notification.event)),"
            + "\"title\":\(LogSink.jsonString(notification.title)),\"text\":\(LogSink.jsonString(notification.text)),"
            + "\"payload\":\(String(decoding: notification.payload, as: UTF8.self))}"
        for r in notification.recipients where r != .operators { transport.push(text: text, to: r) }
    }
}

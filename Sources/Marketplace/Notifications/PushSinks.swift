/// What the Engine implements to push text to connected WebSocket clients (`/v1/ws/track`,
/// `/v1/ws/driver`). Called on the notifier thread: hop to the loop (uv_async) before touching sockets.
public protocol WebSocketPushTransport: Sendable {
    /// Sends one JSON text message to every connection of `recipient`; no-op when none is connected.
    func push(text: String, to recipient: Recipient)
}

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

/// An SMS gateway adapter (Twilio-like services plug in here).
public protocol SMSAdapter: Sendable {
    /// Sends a text message to a person; how a recipient maps to a phone number is the adapter's business.
    func sendSMS(to recipient: Recipient, text: String)
}

/// A mobile push adapter (FCM/APNs-like services plug in here).
public protocol PushAdapter: Sendable {
    /// Sends a push notification.
    func sendPush(to recipient: Recipient, title: String, text: String)
}

/// The default SMS and push adapter: writes what would be sent to a log sink's file.
public struct LogAdapter: SMSAdapter, PushAdapter {
    private let log: LogSink
    /// An adapter writing through `log`.
    public init(log: LogSink) { self.log = log }
    public func sendSMS(to recipient: Recipient, text: String) {
        log.write("{\"channel\":\"sms\",\"to\":\(LogSink.jsonString("\(recipient)")),\"text\":\(LogSink.jsonString(text))}")
    }
    public func sendPush(to recipient: Recipient, title: String, text: String) {
        log.write("{\"channel\":\"push\",\"to\":\(LogSink.jsonString("\(recipient)")),\"title\":\(LogSink.jsonString(title)),\"text\":\(LogSink.jsonString(text))}")
    }
}

/// Sends chosen events as SMS to people (customers and couriers), through an adapter.
public final class SMSSink: NotificationSink {
    public let name = "sms"
    private let adapter: any SMSAdapter
    private let events: Set<String>
    /// A sink for `events` (default: status changes only).
    public init(adapter: any SMSAdapter, events: Set<String> = ["order.status_changed"]) {
        self.adapter = adapter
        self.events = events
    }
    public func deliver(_ notification: OutboundNotification) {
        guard events.contains(notification.event) else { return }
        for r in notification.recipients where r != .operators { adapter.sendSMS(to: r, text: notification.text) }
    }
}

/// Sends chosen events as mobile pushes, through an adapter.
public final class PushSink: NotificationSink {
    public let name = "push"
    private let adapter: any PushAdapter
    private let events: Set<String>
    /// A sink for `events` (default: all).
    public init(adapter: any PushAdapter, events: Set<String> = Set(NotificationEvent.allNames)) {
        self.adapter = adapter
        self.events = events
    }
    public func deliver(_ notification: OutboundNotification) {
        guard events.contains(notification.event) else { return }
        for r in notification.recipients where r != .operators {
            adapter.sendPush(to: r, title: notification.title, text: notification.text)
        }
    }
}

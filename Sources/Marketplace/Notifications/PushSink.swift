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

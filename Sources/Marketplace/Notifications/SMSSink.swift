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

/// Where rendered notifications go: a log file, WebSocket pushes, SMS or push adapters, webhooks.
///
/// `deliver` is called on the notifier's own thread, never the loop; it may do short blocking work
/// (a file append) but must hand anything slow (network) to its own queue.
public protocol NotificationSink: AnyObject, Sendable {
    /// A short name for logs and metrics (`log`, `websocket`, `webhook`, …).
    var name: String { get }
    /// Takes one notification.
    func deliver(_ notification: OutboundNotification)
}

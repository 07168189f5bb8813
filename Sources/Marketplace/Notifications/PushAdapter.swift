/// A mobile push adapter (FCM/APNs-like services plug in here).
public protocol PushAdapter: Sendable {
    /// Sends a push notification.
    func sendPush(to recipient: Recipient, title: String, text: String)
}

/// Performs webhook POSTs. Called on the webhook sink's own thread, one request at a time,
/// so a blocking implementation is fine; the Engine may supply its own.
public protocol WebhookTransport: Sendable {
    /// Sends the request and reports the outcome; never throws or traps.
    func post(_ request: WebhookRequest) -> WebhookPostResult
}

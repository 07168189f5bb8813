/// What the Engine implements to push text to connected WebSocket clients (`/v1/ws/track`,
/// `/v1/ws/driver`). Called on the notifier thread: hop to the loop (uv_async) before touching sockets.
public protocol WebSocketPushTransport: Sendable {
    /// Sends one JSON text message to every connection of `recipient`; no-op when none is connected.
    func push(text: String, to recipient: Recipient)
}

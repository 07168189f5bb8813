/// Limits and timeouts of an ``HTTPServer``; the defaults suit the JSON API.
public struct HTTPServerConfiguration: Sendable {
    /// Request line plus header fields, in bytes; past it: 431 and close.
    public var maxHeaderBytes = 16 * 1024
    /// Request body (after de-chunking), in bytes; past it: 413 and close.
    public var maxBodyBytes = 1 << 20
    /// Time allowed from the first byte of a request to the end of its head; past it: 408 and close.
    public var headerTimeoutMs: UInt64 = 10_000
    /// A keep-alive connection with no request in progress closes silently after this long.
    public var idleTimeoutMs: UInt64 = 60_000
    /// Requests a connection may have unanswered at once; past it the server stops reading that connection
    /// until answers go out (pipelining backpressure).
    public var maxPipelinedRequests = 32
    /// Bytes queued for a client beyond which the server stops reading its requests until the queue drains.
    public var maxQueuedResponseBytes = 4 << 20
    /// Open connections; past it new connections are closed at once and counted.
    public var maxConnections = 10_000
    /// WebSocket limits.
    public var webSocket = WebSocketConfiguration()

    /// The defaults.
    public init() {}
}

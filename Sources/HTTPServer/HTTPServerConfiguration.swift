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

/// Limits of WebSocket connections.
public struct WebSocketConfiguration: Sendable {
    /// The largest message (all fragments together), in bytes; past it: close 1009.
    public var maxMessageBytes = 16 << 20
    /// Outgoing bytes queued for one client (wslay's queue plus the socket's); past it: close 1013 (or 1008,
    /// ``overflowCloseCode``) and ``HTTPServerStatistics/webSocketEvictions`` counts it.
    public var maxQueuedBytes = 4 << 20
    /// The close code for a client evicted for not reading: 1013 ("try again later") or 1008 (policy).
    public var overflowCloseCode: UInt16 = 1013
    /// A connection with no frame received for this long is closed (1001); 0 disables.
    public var idleTimeoutMs: UInt64 = 120_000
    /// After sending a Close, the time allowed for the peer's Close before the socket is dropped.
    public var closeTimeoutMs: UInt64 = 5_000

    /// The defaults.
    public init() {}
}

/// Counters an ``HTTPServer`` keeps; the Engine exports them as metrics.
public struct HTTPServerStatistics: Sendable {
    /// Connections accepted.
    public var connectionsAccepted: UInt64 = 0
    /// Connections refused because ``HTTPServerConfiguration/maxConnections`` was reached.
    public var connectionsRefused: UInt64 = 0
    /// Requests dispatched to handlers.
    public var requests: UInt64 = 0
    /// Malformed requests answered 400.
    public var badRequests: UInt64 = 0
    /// Requests answered 431 or 413 for size.
    public var oversizedRequests: UInt64 = 0
    /// Connections closed by the header or idle timeout.
    public var timeouts: UInt64 = 0
    /// Handlers that threw something other than ``APIError`` (answered 500).
    public var handlerErrors: UInt64 = 0
    /// WebSocket upgrades accepted.
    public var webSocketUpgrades: UInt64 = 0
    /// WebSocket connections closed because their outgoing queue passed the budget.
    public var webSocketEvictions: UInt64 = 0
    /// WebSocket connections closed for protocol errors (bad frames, bad UTF-8, oversized messages).
    public var webSocketProtocolErrors: UInt64 = 0
}

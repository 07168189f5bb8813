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

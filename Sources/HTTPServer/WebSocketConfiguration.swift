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
    /// Frames one data message may arrive in; past it: close 1008 and
    /// ``HTTPServerStatistics/webSocketFloodCloses`` counts it. Bounds a client that sends fragments forever
    /// (empty ones would never reach ``maxMessageBytes``).
    public var maxFragmentsPerMessage = 1_024
    /// Control frames (ping, pong) a connection may send in one second; past it: close 1008, counted like
    /// ``maxFragmentsPerMessage``. Each ping costs the server a pong; a client pinging forever is cut off here.
    public var maxControlFramesPerSecond = 100
    /// After sending a Close, the time allowed for the peer's Close before the socket is dropped.
    public var closeTimeoutMs: UInt64 = 5_000

    /// The defaults.
    public init() {}
}

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
    /// WebSocket connections closed (1008) for a flood: too many fragments in one message or control frames in a
    /// second.
    public var webSocketFloodCloses: UInt64 = 0
    /// Idle WebSocket connections whose wslay context was freed (each reuse makes a new one).
    public var webSocketParks: UInt64 = 0

    /// All zero.
    public init() {}
}

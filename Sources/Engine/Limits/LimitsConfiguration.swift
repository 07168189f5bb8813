/// The abuse limits `hexfleet serve` sets with flags (docs/limits.md). Each one is also exported in `/metrics` as
/// `hexfleet_limit{name="…"}`, so a dashboard shows how close a counter runs to its limit.
public struct LimitsConfiguration: Sendable {
    /// Open HTTP and WebSocket connections; past it a new connection is closed at once and counted in
    /// `hexfleet_connections_refused_total`. Tracking viewers are long-lived, so the default leaves room for tens
    /// of thousands (the process's open-file limit must too).
    public var maxConnections = 60_000
    /// Requests a second per bearer token (per client IP without one): a token bucket refilled at this rate; 0
    /// turns the limit off. Past it: 429 `rate_limited` with `Retry-After`. The `--admin-token` is exempt.
    public var rateLimitPerSecond = 1_000
    /// The bucket's size: a client idle long enough may send this many at once; nil means twice the rate.
    public var rateLimitBurst: Int?
    /// Buckets kept at most; past it a new token shares its client IP's bucket (a client cycling through made-up
    /// tokens cannot grow the table or escape the limit).
    public var maxRateLimitBuckets = 100_000
    /// Time allowed from a request's first byte to the end of its head; past it: 408 and close (slowloris).
    public var headerTimeoutMs: UInt64 = 10_000
    /// Request line plus header fields, in bytes; past it: 431 `headers_too_large` and close.
    public var maxHeaderBytes = 16 * 1024
    /// Request body, in bytes; past it: 413 `payload_too_large` and close.
    public var maxBodyBytes = 1 << 20
    /// Orders one customer may have live (not delivered, cancelled or failed) at once; past it `POST /v1/orders`
    /// answers 429 `too_many_orders`. 0 turns the limit off.
    public var maxLiveOrdersPerCustomer = 100

    /// The defaults.
    public init() {}

    /// The token bucket's size in force.
    var burst: Int { rateLimitBurst ?? 2 * rateLimitPerSecond }
}

/// One HTTP POST a webhook delivery makes.
public struct WebhookRequest: Sendable, Equatable {
    /// `http://host:port/path` (the built-in transport speaks plain HTTP; an Engine transport may add TLS).
    public var url: String
    /// Extra headers (`X-Hexfleet-Signature`, `X-Hexfleet-Event`, `X-Hexfleet-Delivery`, `Content-Type`).
    public var headers: [String: String]
    /// The exact signed body.
    public var body: [UInt8]
    /// Give up on the attempt after this long.
    public var timeoutMs: Int

    /// A request.
    public init(url: String, headers: [String: String], body: [UInt8], timeoutMs: Int) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }
}

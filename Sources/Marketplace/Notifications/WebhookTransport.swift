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

/// How one attempt ended.
public enum WebhookPostResult: Sendable, Equatable {
    /// The receiver answered with this HTTP status (2xx counts as delivered).
    case status(Int)
    /// No HTTP answer: connection refused, timeout, malformed reply; the text says which.
    case failed(String)
}

/// Performs webhook POSTs. Called on the webhook sink's own thread, one request at a time,
/// so a blocking implementation is fine; the Engine may supply its own.
public protocol WebhookTransport: Sendable {
    /// Sends the request and reports the outcome; never throws or traps.
    func post(_ request: WebhookRequest) -> WebhookPostResult
}

/// How one attempt ended.
public enum WebhookPostResult: Sendable, Equatable {
    /// The receiver answered with this HTTP status (2xx counts as delivered).
    case status(Int)
    /// No HTTP answer: connection refused, timeout, malformed reply; the text says which.
    case failed(String)
}

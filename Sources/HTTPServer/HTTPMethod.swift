import CHTTPParser

/// An HTTP request method. Methods the router does not route come through as ``other``.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    case get = "GET", head = "HEAD", post = "POST", put = "PUT", delete = "DELETE", patch = "PATCH"
    case options = "OPTIONS", other = "OTHER"

    /// Maps http-parser's method number.
    init(parserMethod: UInt32) {
        switch http_method(parserMethod) {
        case HTTP_GET: self = .get
        case HTTP_HEAD: self = .head
        case HTTP_POST: self = .post
        case HTTP_PUT: self = .put
        case HTTP_DELETE: self = .delete
        case HTTP_PATCH: self = .patch
        case HTTP_OPTIONS: self = .options
        default: self = .other
        }
    }
}

import JSON

/// One parsed HTTP request, handed to a route handler on the loop thread.
public struct HTTPRequest: Sendable {
    /// The method.
    public var method: HTTPMethod
    /// The method as sent (`GET`, `PROPFIND`).
    public var methodName: String
    /// The raw request target, as sent (`/v1/drivers/7?k=3`).
    public var target: String
    /// The path, percent-decoded (`/v1/drivers/7`).
    public var path: String
    /// The query parameters in order, percent-decoded (`+` is a space).
    public var query: [(String, String)]
    /// Header fields in order; names lower-cased.
    public var headers: [(String, String)]
    /// The body (chunked bodies arrive de-chunked).
    public var body: [UInt8]
    /// Values of the route's `{param}` segments, percent-decoded.
    public var pathParameters: [String: String] = [:]
    /// Whether the connection stays open after this request (HTTP/1.1 default, `Connection: close` ends it).
    public var keepAlive: Bool
    /// The client's IP address as text (`127.0.0.1`, `::1`), read once per connection; nil when the socket no
    /// longer has a peer.
    public var clientHost: String? = nil

    /// A request with these parts (the server's parser, or another engine relaying one); `headers` names lower-cased.
    public init(method: HTTPMethod, methodName: String, target: String, path: String, query: [(String, String)],
                headers: [(String, String)], body: [UInt8], keepAlive: Bool = true, clientHost: String? = nil) {
        self.method = method
        self.methodName = methodName
        self.target = target
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
        self.clientHost = clientHost
    }

    /// A request target's path and query, both still percent-encoded; a fragment (which clients should not send) is
    /// dropped.
    public static func splitTarget(_ target: String) -> (path: Substring, query: Substring) {
        var t = Substring(target)
        if let hash = t.firstIndex(of: "#") { t = t[..<hash] }
        guard let q = t.firstIndex(of: "?") else { return (t, "") }
        return (t[..<q], t[t.index(after: q)...])
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0 == lower }?.1
    }

    /// The first value of query parameter `name`.
    public func query(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// The value of path parameter `name`.
    public func parameter(_ name: String) -> String? { pathParameters[name] }

    /// The body parsed as JSON.
    /// - Throws: ``APIError`` `invalid_json`, with the reader's reason and offset.
    public func json() throws(APIError) -> JSONValue {
        do {
            return try JSONReader.parse(body)
        } catch {
            throw APIError(.invalidJSON, "request body: \(error)")
        }
    }
}

import JSON

/// An error the HTTP API shows as `{"error":{"code":…,"message":…}}` with the code's HTTP status.
///
/// `code.name` is a contract with clients: add codes, never rename or reuse one. The transport codes live here;
/// the Engine declares its domain codes (`driver_not_found`, …) as static members in one extension of ``Code``.
/// Messages are for people and must never hold tokens, keys or exact positions.
public struct APIError: Error, Sendable, Equatable {
    /// A stable error code: its `snake_case` name and HTTP status.
    public struct Code: Hashable, Sendable {
        /// The JSON `"code"`, `snake_case`.
        public let name: String
        /// The HTTP status answered with this code.
        public let status: UInt16
        /// Declares a code; do this once per code, as a static member, so the spelling lives in one place.
        public init(_ name: String, _ status: UInt16) {
            self.name = name
            self.status = status
        }

        /// 400: the request is not valid HTTP, JSON or parameters.
        public static let badRequest = Code("bad_request", 400)
        /// 400: the JSON body did not parse.
        public static let invalidJSON = Code("invalid_json", 400)
        /// 400: a query or path parameter is missing or malformed.
        public static let invalidParameter = Code("invalid_parameter", 400)
        /// 401: no or bad credentials.
        public static let unauthorized = Code("unauthorized", 401)
        /// 403: credentials valid but not allowed.
        public static let forbidden = Code("forbidden", 403)
        /// 404: no such route or resource.
        public static let notFound = Code("not_found", 404)
        /// 405: the path exists with other methods.
        public static let methodNotAllowed = Code("method_not_allowed", 405)
        /// 408: the client was too slow to send the request head.
        public static let requestTimeout = Code("request_timeout", 408)
        /// 409: the request conflicts with the resource's state.
        public static let conflict = Code("conflict", 409)
        /// 413: the body exceeds the server's limit.
        public static let payloadTooLarge = Code("payload_too_large", 413)
        /// 422: well-formed but semantically invalid.
        public static let unprocessable = Code("unprocessable", 422)
        /// 431: the request head exceeds the server's limit.
        public static let headersTooLarge = Code("headers_too_large", 431)
        /// 429: the client sends too fast.
        public static let tooManyRequests = Code("too_many_requests", 429)
        /// 500: a bug on our side; the cause goes to logs, not to the client.
        public static let internalError = Code("internal_error", 500)
        /// 503: the server is shutting down or overloaded.
        public static let unavailable = Code("unavailable", 503)
    }

    /// The stable code.
    public var code: Code
    /// A message for people; may change between versions.
    public var message: String

    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The error as its JSON body: `{"error":{"code":"…","message":"…"}}`.
    public var jsonBody: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("code"); writer.string(code.name)
        writer.key("message"); writer.string(message)
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}

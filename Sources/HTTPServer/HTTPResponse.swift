import JSON

/// An HTTP response; the server adds `Content-Length` (and `Connection: close` when the connection ends).
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: UInt16
    /// Header fields to send, besides `Content-Length` and `Connection`.
    public var headers: [(String, String)]
    /// The body.
    public var body: [UInt8]

    /// A response with the given parts.
    public init(status: UInt16, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response whose body the caller wrote with a ``JSONWriter``.
    public static func json(_ body: [UInt8], status: UInt16 = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    /// A JSON response built by `build`.
    public static func json(status: UInt16 = 200, _ build: (inout JSONWriter) -> Void) -> HTTPResponse {
        var writer = JSONWriter()
        build(&writer)
        return json(writer.bytes, status: status)
    }

    /// A plain-text response.
    public static func text(_ text: String, status: UInt16 = 200, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// The error's JSON body with its status.
    public static func error(_ error: APIError) -> HTTPResponse {
        json(error.jsonBody, status: error.code.status)
    }

    /// The reason phrase for `status`.
    static func reason(_ status: UInt16) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// Serializes head and body. `isHead` omits the body but keeps its length.
    func serialized(close: Bool, isHead: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + body.count)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(0x20)
        out.append(contentsOf: Self.reason(status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        for (name, value) in headers {
            // Header injection guard: a CR or LF in a handler-supplied header would split the response.
            if name.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) || value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
                continue
            }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if status >= 200, status != 204, status != 304 {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(body.count).utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if close { out.append(contentsOf: "Connection: close\r\n".utf8) }
        out.append(contentsOf: "\r\n".utf8)
        if !isHead { out.append(contentsOf: body) }
        return out
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client with one keep-alive connection: the simulator talks to the engine only through
/// its sockets. Bodies are framed by Content-Length or chunked encoding; a dropped connection is reopened once.
final class SimHTTPClient {
    /// One answer.
    struct Response {
        var status: Int
        var body: [UInt8]
        /// The body as a JSON object, when it is one.
        var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let host: String
    private let port: Int
    private let token: String?
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private let timeoutSeconds: Int

    /// A client for `host:port` sending `Authorization: Bearer token` when a token is given.
    init(host: String, port: Int, token: String?, timeoutSeconds: Int = 10) {
        self.host = host
        self.port = port
        self.token = token
        self.timeoutSeconds = timeoutSeconds
    }

    deinit { if fd >= 0 { close(fd) } }

    private func open() throws(SimSocketError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw SimSocketError(description: "cannot resolve \(host):\(port)") }
        defer { freeaddrinfo(result) }
        let s = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw SimSocketError(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard connect(s, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(s)
            throw SimSocketError(description: "connect \(host):\(port): \(String(cString: strerror(e)))")
        }
        fd = s
        buffer.removeAll(keepingCapacity: true)
    }

    private func drop() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sends a request and reads its answer; retries once on a connection that the server had closed.
    func request(_ method: String, _ path: String, json: String? = nil,
                 headers: [(String, String)] = []) throws(SimSocketError) -> Response {
        do { return try attempt(method, path, json, headers) } catch {
            drop()
            return try attempt(method, path, json, headers)
        }
    }

    private func attempt(_ method: String, _ path: String, _ json: String?,
                         _ headers: [(String, String)]) throws(SimSocketError) -> Response {
        if fd < 0 { try open() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        let body = Array((json ?? "").utf8)
        if json != nil { head += "Content-Type: application/json\r\n" }
        if json != nil || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SimSocketError(description: "send: \(String(cString: strerror(errno)))") }
            off += n
        }
        return try readResponse()
    }

    private func fill() throws(SimSocketError) {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw SimSocketError(description: n == 0 ? "connection closed" : "recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[0..<n]
    }

    private func readResponse() throws(SimSocketError) -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd = 0
        while true {
            if let r = buffer.firstRange(of: separator) { headEnd = r.upperBound; break }
            try fill()
        }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw SimSocketError(description: "bad status line") }
        var length = 0, chunked = false, close = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "content-length" { length = Int(value) ?? 0 }
            if name == "transfer-encoding" && value.contains("chunked") { chunked = true }
            if name == "connection" && value == "close" { close = true }
        }
        buffer.removeFirst(headEnd)
        var body: [UInt8] = []
        if chunked {
            while true {
                var lineEnd: Int?
                while lineEnd == nil {
                    if let r = buffer.firstRange(of: [13, 10]) { lineEnd = r.lowerBound } else { try fill() }
                }
                let sizeText = String(decoding: buffer[..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw SimSocketError(description: "bad chunk size")
                }
                while buffer.count < lineEnd! + 2 + size + 2 { try fill() }
                body += buffer[(lineEnd! + 2)..<(lineEnd! + 2 + size)]
                buffer.removeFirst(lineEnd! + 2 + size + 2)
                if size == 0 { break }
            }
        } else {
            while buffer.count < length { try fill() }
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        if close { drop() }
        return Response(status: status, body: body)
    }

    /// `POST /v1/orders/{id}/{action}?driver=ID` on behalf of courier `driver` (what the simulated couriers do):
    /// whether the engine took it, and its answer (nil: no connection).
    func courierAction(_ order: String, _ action: String, driver: UInt64) -> (ok: Bool, response: Response?) {
        let r = try? request("POST", "/v1/orders/\(order)/\(action)?driver=\(driver)", json: "{}")
        return (r.map { (200..<300).contains($0.status) } ?? false, r)
    }

    /// An id in a JSON answer as text: the API writes order ids as numbers, strings pass through.
    static func idText(_ v: Any?) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over POSIX sockets for `http://` webhook URLs.
///
/// One connection per attempt (`Connection: close`), send and receive timeouts from the request,
/// reads only the status line. No TLS: the Engine refuses `https://` endpoints at start (`canPost(to:)`).
public struct HTTPWebhookTransport: WebhookTransport {
    /// A transport.
    public init() {}

    /// Whether this transport can post to `url`: an `http://` URL with a host, an optional port 1…65535 and a
    /// path. `https://` is not (there is no TLS here), nor is any other scheme: such an endpoint would fail every
    /// delivery, so the Engine refuses it at start instead.
    public static func canPost(to url: String) -> Bool { parse(url) != nil }

    /// Host, port and path of an `http://` URL, or nil.
    static func parse(_ url: String) -> (host: String, port: UInt16, path: String)? {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = String(authority)
        var port: UInt16 = 80
        if let colon = authority.lastIndex(of: ":") {
            guard let p = UInt16(authority[authority.index(after: colon)...]), p > 0 else { return nil }
            host = String(authority[..<colon])
            port = p
        }
        guard !host.isEmpty, !host.contains("@"), !path.contains(" "), !path.contains("\r"), !path.contains("\n") else {
            return nil
        }
        return (host, port, path)
    }

    public func post(_ request: WebhookRequest) -> WebhookPostResult {
        guard let target = Self.parse(request.url) else { return .failed("unsupported URL") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &list) == 0, let first = list else {
            return .failed("cannot resolve host")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return .failed("socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: request.timeoutMs / 1000, tv_usec: Int((request.timeoutMs % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return .failed("connect: errno \(errno)")
        }
        var head = "POST \(target.path) HTTP/1.1\r\nHost: \(target.host):\(target.port)\r\n"
        head += "Content-Length: \(request.body.count)\r\nConnection: close\r\n"
        for (k, v) in request.headers.sorted(by: { $0.key < $1.key })
        where !k.contains("\r") && !k.contains("\n") && !v.contains("\r") && !v.contains("\n") {
            head += "\(k): \(v)\r\n"
        }
        head += "\r\n"
        let bytes = Array(head.utf8) + request.body
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return .failed("send: errno \(errno)") }
            sent += n
        }
        var reply = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while reply.count < 65_536 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            reply.append(contentsOf: buffer[0..<n])
            if reply.contains(10) { break }   // the status line is complete
        }
        return Self.status(fromReply: reply)
    }

    /// The status code in `HTTP/1.x NNN …`, or `.failed`.
    static func status(fromReply reply: [UInt8]) -> WebhookPostResult {
        guard let end = reply.firstIndex(of: 10) else { return .failed("no HTTP status line") }
        let line = String(decoding: reply[..<end], as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]), (100...599).contains(code) else {
            return .failed("malformed HTTP status line")
        }
        return .status(code)
    }
}

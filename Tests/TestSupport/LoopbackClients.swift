import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client over a real TCP socket to 127.0.0.1, for tests: one request per connection
/// unless `keepAlive` reuse is asked for. Answers are parsed just enough to check status, headers and body.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body parsed with JSONSerialization (tests only).
    public var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    /// `error.code` of an API error body.
    public var errorCode: String? { ((json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String }
}

public enum LoopbackError: Error { case connect(Int32), io(String), timeout }

/// Opens a TCP connection to 127.0.0.1:`port` with a receive timeout; `receiveBufferBytes` sets SO_RCVBUF
/// before connecting (a small buffer makes a slow reader in backpressure tests).
public func connectLoopback(port: Int, timeoutSeconds: Int = 10, receiveBufferBytes: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw LoopbackError.connect(errno) }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    if var size = receiveBufferBytes {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { let e = errno; close(fd); throw LoopbackError.connect(e) }
    return fd
}

/// Writes all bytes.
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw LoopbackError.io("send failed: \(errno)") }
        off += n
    }
}

/// Sends one HTTP request and reads one response (Content-Length framed), waiting at most `timeoutSeconds` per read.
public func httpRequest(port: Int, method: String, path: String, headers: [(String, String)] = [],
                        body: [UInt8] = [], rawHead: String? = nil, timeoutSeconds: Int = 10) throws -> TestHTTPResponse {
    let fd = try connectLoopback(port: port, timeoutSeconds: timeoutSeconds)
    defer { close(fd) }
    var head = rawHead ?? "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if rawHead == nil {
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
    }
    try writeAll(fd, Array(head.utf8) + body)
    return try readResponse(fd)
}

/// Reads one response from a socket.
public func readResponse(_ fd: Int32) throws -> TestHTTPResponse {
    var buffer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    func fill() throws -> Bool {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw LoopbackError.timeout }
        if n == 0 { return false }
        buffer += chunk[0..<n]
        return true
    }
    let separator: [UInt8] = [13, 10, 13, 10]
    var headEnd: Int?
    while headEnd == nil {
        if let r = buffer.firstRange(of: separator) { headEnd = r.upperBound; break }
        guard try fill() else { throw LoopbackError.io("connection closed before a response head") }
    }
    let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let statusLine = lines.removeFirst().split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw LoopbackError.io("bad status line") }
    var headers: [String: String] = [:]
    for line in lines where !line.isEmpty {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    while buffer.count - headEnd! < length { guard try fill() else { break } }
    return TestHTTPResponse(status: status, headers: headers, body: Array(buffer[headEnd!..<min(buffer.count, headEnd! + length)]))
}

/// Sends UDP datagrams to 127.0.0.1:`port` from a fresh socket.
public func sendUDP(port: Int, _ datagrams: [[UInt8]]) throws {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw LoopbackError.connect(errno) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    for d in datagrams {
        let n = d.withUnsafeBytes { bytes in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard n == d.count else { throw LoopbackError.io("sendto failed: \(errno)") }
    }
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held. No fixed sleeps in tests.
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}

import EventLoop
import Foundation
import HTTPServer
import Synchronization

/// Runs an HTTP server on a loop on the calling (test) thread while `client` runs on its own thread with
/// blocking sockets; returns the client's result once it finished and the loop shut down. After `guardMs` the
/// server shuts down whatever the client is doing, so a stuck test ends.
func withServer<R: Sendable>(
    configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
    guardMs: UInt64 = 20_000,
    routes: (inout Router, Loop) -> Void = { _, _ in },
    setup: (HTTPServer) -> Void = { _ in },
    client: @escaping @Sendable (Int) throws -> R
) throws -> (R, HTTPServerStatistics) {
    let loop = try Loop()
    var router = Router()
    routes(&router, loop)
    let server = HTTPServer(loop: loop, configuration: configuration, router: router)
    setup(server)
    let port = try server.listen(host: "127.0.0.1", port: 0).port
    let box = Mutex<Result<R, any Error>?>(nil)
    let done = try AsyncWakeup<Int>(loop: loop) { _ in
        server.close()
        loop.shutdown()
    }
    let sender = done.sender
    let guardTimer = try EventLoop.Timer(loop: loop)
    guardTimer.keepsLoopAlive = false
    try guardTimer.start(afterMs: guardMs) { server.close(); loop.shutdown() }
    Thread {
        let result = Result { try client(port) }
        box.withLock { $0 = result }
        sender.send(0)
    }.start()
    loop.run()
    loop.shutdown()
    let result = try requireResult(box.withLock { $0 })
    return (try result.get(), server.statistics)
}

private func requireResult<R>(_ r: Result<R, any Error>?) throws -> Result<R, any Error> {
    guard let r else { throw ClientError.timedOut("the client did not finish") }
    return r
}

enum ClientError: Error { case timedOut(String), closed, malformed(String), connect(Int32) }

/// A blocking TCP client over POSIX sockets with a receive timeout, for talking raw HTTP and WebSocket.
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, receiveTimeoutMs: Int = 5_000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw ClientError.connect(errno) }
        var tv = timeval(tv_sec: receiveTimeoutMs / 1000, tv_usec: (receiveTimeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Makes the kernel receive buffer small, so a client that does not read fills up quickly.
    func shrinkReceiveBuffer(bytes: Int32) {
        var value = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends FIN (the client is done sending).
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads more bytes into the buffer; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { guard fill() else { throw ClientError.closed } }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    /// Reads one HTTP response with a Content-Length body.
    func readResponse(isHead: Bool = false) throws -> RawResponse {
        var headEnd: Int?
        while headEnd == nil {
            if let r = find([13, 10, 13, 10]) { headEnd = r } else if !fill() { throw ClientError.closed }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ClientError.malformed(lines[0]) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let body = status == 101 || isHead ? [] : try readExactly(length)
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// True when the server closed the connection (EOF) before the timeout; leftover bytes are discarded.
    func waitForClose() -> Bool {
        buffer.removeAll()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    /// True when the server has closed the connection (EOF or reset waiting); never blocks, reads nothing.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] {
            if Array(buffer[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }

    // MARK: WebSocket (client side: frames are masked)

    /// Performs the opening handshake on `path`; returns the 101 response.
    func upgrade(path: String, key: String = "dGhlIHNhbXBsZSBub25jZQ==") throws -> RawResponse {
        send("GET \(path) HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return try readResponse()
    }

    func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) {
        send(Self.maskedFrame(opcode: opcode, payload, fin: fin))
    }

    /// A client frame (masked), for sending in pieces.
    static func maskedFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65_536 {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $1 ^ mask[$0 & 3] }
        return frame
    }

    /// Reads one frame (server frames are unmasked).
    func readFrame() throws -> (fin: Bool, opcode: UInt8, payload: [UInt8]) {
        let h = try readExactly(2)
        var length = Int(h[1] & 0x7F)
        if length == 126 {
            let e = try readExactly(2)
            length = Int(e[0]) << 8 | Int(e[1])
        } else if length == 127 {
            let e = try readExactly(8)
            length = e.reduce(0) { $0 << 8 | Int($1) }
        }
        return (h[0] & 0x80 != 0, h[0] & 0x0F, try readExactly(length))
    }

    /// Reads frames until a close frame; returns its code (1005 when it has none).
    func readUntilClose() throws -> UInt16 {
        while true {
            let frame = try readFrame()
            if frame.opcode == 0x8 {
                return frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : 1005
            }
        }
    }
}

struct RawResponse: Sendable {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

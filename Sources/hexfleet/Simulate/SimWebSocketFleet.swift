import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One WebSocket per simulated driver on the engine's `/v1/ws/driver` (admin token, `?driver=ID`), for networks where
/// UDP is blocked: each ping is one masked binary frame holding a bare 32-byte record (no header, no tag: the
/// connection is authenticated). Incoming frames are drained without blocking: pings are answered with pongs, a
/// close or a reset marks the driver's connection dead, and `{"type":"error",…}` texts are counted.
///
/// Not thread-safe (the sender's thread owns it). The accept key of the handshake is not verified: this is a load
/// generator against our own server, and the executable has no SHA-1 of its own.
final class SimWebSocketFleet {
    private var fds: [Int32]
    private var inbound: [[UInt8]]
    private var rng: SimRandom
    /// Connections the server closed or reset.
    private(set) var closed = 0
    /// Error messages the server sent (refused pings).
    private(set) var errorMessages = 0
    /// Frames the kernel did not take whole.
    private(set) var sendErrors: UInt64 = 0

    /// Opens and upgrades one connection per driver id; throws on the first that fails.
    init(host: String, port: Int, token: String, driverIDs: [UInt64], seed: UInt64) throws(SimSocketError) {
        rng = SimRandom(seed: seed, stream: 6)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let need = rlim_t(driverIDs.count + 64)
        if limit.rlim_cur < need {
            limit.rlim_cur = min(need, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        fds = []
        inbound = []
        fds.reserveCapacity(driverIDs.count)
        for id in driverIDs {
            let fd = try Self.connect(host: host, port: port)
            var key = [UInt8](repeating: 0, count: 16)
            for i in key.indices { key[i] = UInt8(truncatingIfNeeded: rng.next()) }
            let request = "GET /v1/ws/driver?driver=\(id) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: \(Data(key).base64EncodedString())\r\n"
                + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n\r\n"
            let bytes = Array(request.utf8)
            guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                close(fd)
                throw SimSocketError(description: "WebSocket upgrade for driver \(id): send failed")
            }
            var head: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while head.firstRange(of: [13, 10, 13, 10]) == nil {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { close(fd); throw SimSocketError(description: "WebSocket upgrade for driver \(id): no answer") }
                head += chunk[0..<n]
            }
            let end = head.firstRange(of: [13, 10, 13, 10])!.upperBound
            let status = String(decoding: head[..<end], as: UTF8.self).split(separator: " ").dropFirst().first ?? ""
            guard status == "101" else {
                close(fd)
                throw SimSocketError(description: "WebSocket upgrade for driver \(id) answered \(status): "
                    + String(decoding: head[end...].prefix(200), as: UTF8.self))
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            fds.append(fd)
            inbound.append(Array(head[end...]))
        }
    }

    deinit { for fd in fds where fd >= 0 { close(fd) } }

    private static func connect(host: String, port: Int) throws(SimSocketError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw SimSocketError(description: "cannot resolve \(host):\(port)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SimSocketError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(fd)
            throw SimSocketError(description: "connect \(host):\(port): \(String(cString: strerror(e)))")
        }
        return fd
    }

    /// Sends a client frame (masked, as RFC 6455 requires of clients) with a payload under 126 bytes.
    private func frame(_ i: Int, opcode: UInt8, _ payload: UnsafeRawBufferPointer) -> Bool {
        guard fds[i] >= 0 else { return false }
        var out = [UInt8](repeating: 0, count: 6 + payload.count)
        out[0] = 0x80 | opcode
        out[1] = 0x80 | UInt8(payload.count)
        let mask = UInt32(truncatingIfNeeded: rng.next())
        for k in 0..<4 { out[2 + k] = UInt8(truncatingIfNeeded: mask >> (8 * k)) }
        for k in 0..<payload.count { out[6 + k] = payload[k] ^ out[2 + k % 4] }
        let n = out.withUnsafeBytes { Glibc.send(fds[i], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n != out.count { sendErrors &+= 1; return false }
        return true
    }

    /// Sends one record as a binary frame on driver `i`'s connection; false when it could not.
    @discardableResult
    func send(_ i: Int, record: PingRecordBytes) -> Bool {
        withUnsafeBytes(of: record.bytes) { frame(i, opcode: 0x2, $0) }
    }

    /// Reads whatever the server sent on every connection, answering pings; call every few hundred milliseconds.
    func drain() {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        for i in fds.indices where fds[i] >= 0 {
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fds[i], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 { inbound[i] += chunk[0..<n]; continue }
                if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { markClosed(i) }
                break
            }
            parse(i)
        }
    }

    private func markClosed(_ i: Int) {
        guard fds[i] >= 0 else { return }
        close(fds[i])
        fds[i] = -1
        closed += 1
    }

    /// Consumes complete server frames (unmasked) from driver `i`'s buffer.
    private func parse(_ i: Int) {
        var buf = inbound[i]
        var at = 0
        while buf.count - at >= 2 {
            let opcode = buf[at] & 0x0F
            var length = Int(buf[at + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard buf.count - at >= 4 else { break }
                length = Int(buf[at + 2]) << 8 | Int(buf[at + 3])
                header = 4
            } else if length == 127 {
                guard buf.count - at >= 10 else { break }
                length = 0
                for k in 0..<8 { length = length << 8 | Int(buf[at + 2 + k]) }
                header = 10
            }
            guard length >= 0, buf.count - at >= header + length else { break }
            let payload = Array(buf[(at + header)..<(at + header + length)])
            switch opcode {
            case 0x9: _ = payload.withUnsafeBytes { frame(i, opcode: 0xA, $0) }
            case 0x8: markClosed(i)
            case 0x1:
                if payload.count < 4096, String(decoding: payload, as: UTF8.self).contains("\"type\":\"error\"") { errorMessages += 1 }
            default: break
            }
            at += header + length
            if fds[i] < 0 { break }
        }
        if at > 0 { buf.removeFirst(at) }
        inbound[i] = buf
    }
}

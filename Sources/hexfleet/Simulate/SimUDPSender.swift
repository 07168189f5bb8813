import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connected UDP socket that sends datagrams to the engine's ping listener. Errors (a full socket buffer, a
/// refused port) are counted, never fatal: the engine's accepted count tells what arrived.
final class SimUDPSender {
    private let fd: Int32
    /// Datagrams the kernel refused.
    private(set) var errors: UInt64 = 0

    /// Resolves `host` (IPv4 or IPv6) and connects a datagram socket to `host:port`.
    init(host: String, port: Int) throws(SimSocketError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw SimSocketError(description: "cannot resolve \(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        let s = socket(first.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        guard s >= 0 else { throw SimSocketError(description: "socket: \(String(cString: strerror(errno)))") }
        guard connect(s, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(s)
            throw SimSocketError(description: "connect \(host):\(port): \(String(cString: strerror(e)))")
        }
        var size: Int32 = 4 << 20
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        fd = s
    }

    deinit { close(fd) }

    /// Sends one datagram; returns whether the kernel took it.
    @discardableResult
    func send(_ datagram: UnsafeRawBufferPointer) -> Bool {
        while true {
            let n = Glibc.send(fd, datagram.baseAddress, datagram.count, 0)
            if n == datagram.count { return true }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == ENOBUFS || errno == EAGAIN) {
                // The local queue is full: yield briefly once, as a real client would back off.
                usleep(50)
                if Glibc.send(fd, datagram.baseAddress, datagram.count, 0) == datagram.count { return true }
            }
            errors &+= 1
            return false
        }
    }
}

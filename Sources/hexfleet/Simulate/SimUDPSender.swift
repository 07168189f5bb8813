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

    deinit {
        close(fd)
        buffer.deallocate()
        vectors.deallocate()
    }

    // Datagrams queued for one flush, packed back to back (so same-size ones form the run a segmented send needs),
    // with an iovec each for the one-by-one path.
    static let batchSize = 64
    static let maxQueuedBytes = 2_048
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: SimUDPSender.batchSize * SimUDPSender.maxQueuedBytes,
                                                           alignment: 64)
    private let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: SimUDPSender.batchSize)
    private var queued = 0
    private var queuedBytes = 0
    /// Whether every queued datagram has the first one's size.
    private var sameSize = true
    /// Whether the kernel took a segmented send (UDP_SEGMENT, Linux ≥ 4.18); off after the first refusal.
    private var segmentationWorks = true

    /// Queues a datagram for the next `flush` (sent at once when the batch is full): one system call per 64
    /// same-size datagrams instead of one each. Returns how many datagrams a flush forced by a full batch sent.
    @discardableResult
    func queue(_ datagram: UnsafeRawBufferPointer) -> Int {
        guard datagram.count <= Self.maxQueuedBytes else { return send(datagram) ? 1 : 0 }
        sameSize = queued == 0 || (sameSize && datagram.count == Int(vectors[0].iov_len))
        let at = buffer + queuedBytes
        at.copyMemory(from: datagram.baseAddress!, byteCount: datagram.count)
        vectors[queued] = iovec(iov_base: at, iov_len: datagram.count)
        queued += 1
        queuedBytes += datagram.count
        return queued == Self.batchSize ? flush() : 0
    }

    /// Sends every queued datagram; returns how many the kernel took (the rest count as errors).
    ///
    /// Datagrams of one size (one-record pings are all 64 bytes) go out as one segmented send: the kernel walks its
    /// output path once and cuts the buffer into the same separate datagrams at the far end, which over loopback
    /// halves the sender's system time per datagram. The receiver sees ordinary datagrams. Mixed sizes, or a kernel
    /// without UDP segmentation offload, go one `send` each (`sendmmsg` is out of reach: Swift's Glibc module is built
    /// without _GNU_SOURCE, and defining it in a shim breaks that module's `fd_set`).
    @discardableResult
    func flush() -> Int {
        let sent = queued > 1 && sameSize && segmentationWorks ? (sendSegmented() ?? sendEach()) : sendEach()
        queued = 0
        queuedBytes = 0
        return sent
    }

    /// The queued run as one UDP_SEGMENT send; nil when the kernel did not take it whole.
    private func sendSegmented() -> Int? {
        var vector = iovec(iov_base: buffer, iov_len: queuedBytes)
        let rc = withUnsafeTemporaryAllocation(byteCount: 24, alignment: 8) { c -> Int in   // CMSG_SPACE(2) on 64-bit
            c.storeBytes(of: 18, toByteOffset: 0, as: Int.self)                  // cmsg_len = CMSG_LEN(2)
            c.storeBytes(of: Int32(17), toByteOffset: 8, as: Int32.self)         // SOL_UDP
            c.storeBytes(of: Int32(103), toByteOffset: 12, as: Int32.self)       // UDP_SEGMENT
            c.storeBytes(of: UInt16(vectors[0].iov_len), toByteOffset: 16, as: UInt16.self)
            c.storeBytes(of: UInt16(0), toByteOffset: 18, as: UInt16.self)
            c.storeBytes(of: UInt32(0), toByteOffset: 20, as: UInt32.self)
            return withUnsafeMutablePointer(to: &vector) { v in
                var message = msghdr()
                message.msg_iov = v
                message.msg_iovlen = 1
                message.msg_control = c.baseAddress
                message.msg_controllen = c.count
                return Glibc.sendmsg(fd, &message, 0)
            }
        }
        if rc == queuedBytes { return queued }
        if rc < 0 && (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
            segmentationWorks = false   // an old kernel: one datagram per message from now on
        }
        return nil
    }

    private func sendEach() -> Int {
        var sent = 0
        for k in 0..<queued where send(UnsafeRawBufferPointer(start: vectors[k].iov_base, count: vectors[k].iov_len)) {
            sent += 1
        }
        return sent
    }

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

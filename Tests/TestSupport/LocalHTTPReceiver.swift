import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A tiny real HTTP/1.1 server on 127.0.0.1, port 0, for webhook tests: one thread, one request per
/// connection, answers each request with the status `respond` picks from the request's ordinal.
public final class LocalHTTPReceiver: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]   // lower-cased names
        public var body: [UInt8]
    }

    public let port: UInt16
    private let listener: Int32
    private let respond: @Sendable (Int) -> Int
    private let received = Mutex<[Request]>([])
    private let arrived = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts listening; `respond(n)` gives the status for the n-th request (0-based).
    public init(respond: @escaping @Sendable (Int) -> Int) throws {
        self.respond = respond
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        listener = fd
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Where to post.
    public var url: String { "http://127.0.0.1:\(port)/hooks" }
    /// Requests so far, in arrival order.
    public var requests: [Request] { received.withLock { $0 } }

    /// Waits until `n` requests arrived in total, or the deadline passes; returns whether they did.
    public func waitForRequests(_ n: Int, timeoutSeconds: Double = 10) -> Bool {
        let deadline = DispatchTime.now() + timeoutSeconds
        while received.withLock({ $0.count }) < n {
            if arrived.wait(timeout: deadline) == .timedOut { return received.withLock { $0.count } >= n }
        }
        return true
    }

    /// Stops accepting and waits for the server thread.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
    }

    private func serve() {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { break }
            handle(c)
            close(c)
        }
        finished.signal()
    }

    private func handle(_ fd: Int32) {
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return }
            data.append(contentsOf: buf[0..<n])
            if headerEnd == nil, let r = Self.find([13, 10, 13, 10], in: data) {
                headerEnd = r + 4
                let head = String(decoding: data[0..<r], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let kv = line.split(separator: ":", maxSplits: 1)
                    if kv.count == 2, kv[0].lowercased() == "content-length" {
                        contentLength = Int(kv[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
            if let h = headerEnd, data.count >= h + contentLength { break }
        }
        guard let h = headerEnd else { return }
        let head = String(decoding: data[0..<(h - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let first = lines.first?.split(separator: " ") ?? []
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { headers[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        let request = Request(method: first.count > 0 ? String(first[0]) : "", path: first.count > 1 ? String(first[1]) : "",
                              headers: headers, body: Array(data[h..<(h + contentLength)]))
        let ordinal = received.withLock { r -> Int in r.append(request); return r.count - 1 }
        let status = respond(ordinal)
        let reply = Array("HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = reply.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
        arrived.signal()
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}

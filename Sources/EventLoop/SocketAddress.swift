import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address held by value (a `sockaddr_storage`), so copying one never allocates.
public struct SocketAddress: Sendable, CustomStringConvertible {
    /// The raw address; its family says which concrete struct the bytes hold.
    public var storage: sockaddr_storage

    /// Parses a numeric IPv4 (`127.0.0.1`) or IPv6 (`::1`) host; no name resolution.
    public init(host: String, port: Int) throws(UVError) {
        guard (0...65_535).contains(port) else { throw UVError(code: UV_EINVAL.rawValue, operation: "port \(port)") }
        var storage = sockaddr_storage()
        var rc = withUnsafeMutableBytes(of: &storage) { raw in
            uv_ip4_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self))
        }
        if rc < 0 {
            rc = withUnsafeMutableBytes(of: &storage) { raw in
                uv_ip6_addr(host, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self))
            }
        }
        try UVError.check(rc, "address \(host)")
        self.storage = storage
    }

    /// Copies the address behind `pointer` (IPv4 or IPv6).
    public init(_ pointer: UnsafePointer<sockaddr>) {
        var storage = sockaddr_storage()
        let length = min(hf_sockaddr_length(pointer), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: length))
        }
        self.storage = storage
    }

    /// Lends the address as a `sockaddr` pointer.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) throws -> R) rethrows -> R {
        try withUnsafePointer(to: storage) { try body(hf_storage_as_sockaddr($0)) }
    }

    /// The port, in host byte order.
    public var port: Int { withSockAddr { Int(hf_sockaddr_port($0)) } }

    /// The numeric host (`127.0.0.1`, `::1`).
    public var host: String {
        withSockAddr { address in
            var buffer = [CChar](repeating: 0, count: 64)
            guard hf_sockaddr_name(address, &buffer, buffer.count) == 0 else { return "?" }
            let length = buffer.firstIndex(of: 0) ?? buffer.count
            return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Whether this is an IPv6 address.
    public var isIPv6: Bool { Int32(storage.ss_family) == AF_INET6 }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `HOST:PORT` or `[V6HOST]:PORT`.
    public static func parse(_ text: String) throws(UVError) -> SocketAddress {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw UVError(code: UV_EINVAL.rawValue, operation: "address \(text)") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw UVError(code: UV_EINVAL.rawValue, operation: "address \(text)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host == "localhost" { host = "127.0.0.1" }
        guard let port = Int(portText) else { throw UVError(code: UV_EINVAL.rawValue, operation: "address \(text)") }
        return try SocketAddress(host: String(host), port: port)
    }
}

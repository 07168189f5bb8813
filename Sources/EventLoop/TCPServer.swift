import CLibUV

/// A listening TCP socket (`uv_tcp_t` + `uv_listen`) that hands each accepted peer over as a ``TCPConnection``.
public final class TCPServer: LoopHandle {
    private var onConnection: ((TCPConnection) -> Void)?
    /// Accepts that failed (the peer vanished, or descriptors ran out); counted, never fatal.
    public private(set) var acceptErrors: UInt64 = 0

    /// Creates an unbound server socket.
    public init(loop: Loop) throws(UVError) {
        super.init(loop: loop, type: UV_TCP)
        try UVError.check(uv_tcp_init(loop.raw, handle), "uv_tcp_init")
        didInitialize()
    }

    private var handle: UnsafeMutablePointer<uv_tcp_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_tcp_t.self)
    }

    /// Binds to `host:port` (port 0 picks a free port) and returns the bound address.
    @discardableResult
    public func bind(host: String, port: Int) throws(UVError) -> SocketAddress {
        try bind(try SocketAddress(host: host, port: port))
    }

    /// Binds to `address` and returns the bound address.
    @discardableResult
    public func bind(_ address: SocketAddress) throws(UVError) -> SocketAddress {
        loop.assertOnLoop()
        try UVError.check(address.withSockAddr { uv_tcp_bind(handle, $0, 0) }, "uv_tcp_bind \(address)")
        return try localAddress()
    }

    /// The bound local address.
    public func localAddress() throws(UVError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { raw in
            uv_tcp_getsockname(handle, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        try UVError.check(rc, "uv_tcp_getsockname")
        return withUnsafePointer(to: storage) { SocketAddress(hf_storage_as_sockaddr($0)) }
    }

    /// Starts listening; `onConnection` runs on the loop for each accepted peer, which it must keep or close.
    public func listen(backlog: Int32 = 511, _ onConnection: @escaping (TCPConnection) -> Void) throws(UVError) {
        loop.assertOnLoop()
        self.onConnection = onConnection
        try UVError.check(uv_listen(hf_tcp_as_stream(handle), backlog, { server, status in
            guard let server, let data = server.pointee.data else { return }
            Unmanaged<TCPServer>.fromOpaque(data).takeUnretainedValue().accept(status: status)
        }), "uv_listen")
    }

    private func accept(status: Int32) {
        guard status >= 0 else { acceptErrors &+= 1; return }
        guard let connection = try? TCPConnection(loop: loop) else { acceptErrors &+= 1; return }
        guard uv_accept(hf_tcp_as_stream(handle), connection.stream) == 0 else {
            acceptErrors &+= 1
            connection.close()
            return
        }
        connection.didAccept()
        if let onConnection { onConnection(connection) } else { connection.close() }
    }

    override func didClose() { onConnection = nil }
}

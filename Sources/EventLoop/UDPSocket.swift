import CLibUV

/// A UDP socket (`uv_udp_t`) that receives with `recvmmsg` into one slab allocated once.
///
/// The receive path allocates nothing per datagram: libuv's alloc callback always lends the same slab, batches of
/// up to ``batchSize`` datagrams arrive in 64 KiB chunks of it (`UV_UDP_MMSG_CHUNK`, nothing to free), and the
/// final `UV_UDP_MMSG_FREE` callback only marks the slab free again.
public final class UDPSocket: LoopHandle {
    /// The number of datagrams one `recvmmsg` call can return (libuv reads at most 20 per call).
    public let batchSize: Int
    private let slab: UnsafeMutableRawBufferPointer
    private var slabLent = false
    private var onDatagram: ((UDPDatagram) -> Void)?
    private var onError: ((UVError) -> Void)?

    /// Datagrams delivered to the callback, truncated ones included.
    public private(set) var receivedDatagrams: UInt64 = 0
    /// Datagrams the kernel truncated (`UV_UDP_PARTIAL`).
    public private(set) var truncatedDatagrams: UInt64 = 0
    /// Receive errors libuv reported.
    public private(set) var receiveErrors: UInt64 = 0

    /// libuv's largest datagram chunk (`UV__UDP_DGRAM_MAXSIZE`): recvmmsg splits the slab into chunks this size.
    public static let chunkBytes = 64 * 1024

    /// Creates a socket for `family` (`AF_INET` or `AF_INET6`) with `recvmmsg` enabled.
    public init(loop: Loop, family: Int32 = AF_INET, batchSize: Int = 20) throws(UVError) {
        self.batchSize = max(1, min(batchSize, 20))
        slab = .allocate(byteCount: self.batchSize * Self.chunkBytes, alignment: 16)
        super.init(loop: loop, type: UV_UDP)
        let flags = UInt32(family) | UInt32(UV_UDP_RECVMMSG.rawValue)
        try UVError.check(uv_udp_init_ex(loop.raw, handle, flags), "uv_udp_init_ex")
        didInitialize()
    }

    deinit { slab.deallocate() }

    private var handle: UnsafeMutablePointer<uv_udp_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_udp_t.self)
    }

    /// Binds to `host:port` (port 0 picks a free port) and returns the bound address.
    @discardableResult
    public func bind(host: String, port: Int, reuseAddress: Bool = false) throws(UVError) -> SocketAddress {
        let address = try SocketAddress(host: host, port: port)
        return try bind(address, reuseAddress: reuseAddress)
    }

    /// Binds to `address` and returns the bound address (with the actual port when it asked for 0).
    @discardableResult
    public func bind(_ address: SocketAddress, reuseAddress: Bool = false) throws(UVError) -> SocketAddress {
        loop.assertOnLoop()
        let flags = reuseAddress ? UInt32(UV_UDP_REUSEADDR.rawValue) : 0
        try UVError.check(address.withSockAddr { uv_udp_bind(handle, $0, flags) }, "uv_udp_bind \(address)")
        return try localAddress()
    }

    /// The bound local address.
    public func localAddress() throws(UVError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { raw in
            uv_udp_getsockname(handle, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        try UVError.check(rc, "uv_udp_getsockname")
        return withUnsafePointer(to: storage) { SocketAddress(hf_storage_as_sockaddr($0)) }
    }

    /// Whether libuv actually uses `recvmmsg` on this socket (Linux, libuv ≥ 1.40).
    public var usesRecvmmsg: Bool { uv_udp_using_recvmmsg(handle) != 0 }

    /// The kernel receive buffer (`SO_RCVBUF`) in bytes, as the kernel reports it (Linux doubles the request).
    public var receiveBufferBytes: Int {
        var value: Int32 = 0
        return uv_recv_buffer_size(rawHandle, &value) < 0 ? 0 : Int(value)
    }

    /// Asks for a `SO_RCVBUF` of `bytes` (capped by `net.core.rmem_max`); returns what the kernel granted.
    @discardableResult
    public func setReceiveBuffer(bytes: Int) throws(UVError) -> Int {
        var value = Int32(clamping: bytes)
        try UVError.check(uv_recv_buffer_size(rawHandle, &value), "uv_recv_buffer_size")
        return receiveBufferBytes
    }

    /// Starts receiving: `onDatagram` runs on the loop once per datagram, with bytes borrowed from the slab.
    public func startReceiving(
        onError: ((UVError) -> Void)? = nil,
        _ onDatagram: @escaping (UDPDatagram) -> Void
    ) throws(UVError) {
        loop.assertOnLoop()
        self.onDatagram = onDatagram
        self.onError = onError
        try UVError.check(uv_udp_recv_start(handle, { handle, _, buffer in
            guard let handle, let buffer, let data = handle.pointee.data else { return }
            let owner = Unmanaged<UDPSocket>.fromOpaque(data).takeUnretainedValue()
            if owner.slabLent {
                // libuv asked again before freeing the slab (it never does): refuse, it reports ENOBUFS.
                buffer.pointee = uv_buf_init(nil, 0)
                return
            }
            owner.slabLent = true
            buffer.pointee = uv_buf_init(owner.slab.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         UInt32(owner.slab.count))
        }, { handle, nread, buffer, address, flags in
            guard let handle, let data = handle.pointee.data else { return }
            Unmanaged<UDPSocket>.fromOpaque(data).takeUnretainedValue()
                .received(nread: nread, buffer: buffer, address: address, flags: flags)
        }), "uv_udp_recv_start")
    }

    @inline(__always)
    private func received(nread: Int, buffer: UnsafePointer<uv_buf_t>?, address: UnsafePointer<sockaddr>?,
                          flags: UInt32) {
        if flags & UInt32(UV_UDP_MMSG_FREE.rawValue) != 0 {
            slabLent = false   // end of a recvmmsg batch: the slab is ours again
            return
        }
        let isChunk = flags & UInt32(UV_UDP_MMSG_CHUNK.rawValue) != 0
        defer { if !isChunk { slabLent = false } }   // a plain recvmsg read ends with this one callback
        if nread < 0 {
            receiveErrors &+= 1
            onError?(UVError(code: Int32(truncatingIfNeeded: nread), operation: "udp recv"))
            return
        }
        guard let address, let buffer, let base = buffer.pointee.base else { return }   // nothing read
        let truncated = flags & UInt32(UV_UDP_PARTIAL.rawValue) != 0
        receivedDatagrams &+= 1
        if truncated { truncatedDatagrams &+= 1 }
        onDatagram?(UDPDatagram(bytes: UnsafeRawBufferPointer(start: base, count: nread), sender: address,
                                isTruncated: truncated))
    }

    /// Stops receiving; ``startReceiving(onError:_:)`` may start again.
    public func stopReceiving() {
        guard !isClosing else { return }
        uv_udp_recv_stop(handle)
    }

    /// Sends one datagram now (`uv_udp_try_send`), for tests and clients; throws `EAGAIN` when the kernel
    /// buffer is full rather than queueing.
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(UVError) {
        var buf = uv_buf_init(UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)),
                              UInt32(bytes.count))
        let rc = address.withSockAddr { uv_udp_try_send(handle, &buf, 1, $0) }
        try UVError.check(rc, "uv_udp_try_send")
    }

    /// Sends one datagram now; see ``send(_:to:)-(UnsafeRawBufferPointer,_)``.
    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(UVError) {
        let rc = bytes.withUnsafeBytes { raw in
            var buf = uv_buf_init(UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: CChar.self)),
                                  UInt32(raw.count))
            return address.withSockAddr { uv_udp_try_send(handle, &buf, 1, $0) }
        }
        try UVError.check(rc, "uv_udp_try_send")
    }

    override func didClose() {
        onDatagram = nil
        onError = nil
    }
}

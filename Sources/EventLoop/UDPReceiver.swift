import CLibUV

/// A receive-only UDP socket with its own `recvmmsg` loop on a `uv_poll_t`: batches of up to 64 entries and UDP
/// GRO, so a train of same-size datagrams from one sender arrives as one buffer and costs the kernel one copy.
///
/// ```
///  socket readable ─▶ recvmmsg (≤ 64 entries into one slab, MSG_DONTWAIT) ─┬─ plain datagram ─▶ onDatagram
///       (repeat while full batches keep coming, ≤ 16 calls per wake-up)     └─ GRO train (segment size s from the
///                                                                              cmsg) ─▶ split every s bytes ─▶ onDatagram each
/// ```
/// Why not ``UDPSocket``: libuv 1.44 reads at most 20 datagrams per call and passes no control messages, so it
/// cannot tell where the datagrams of a GRO train begin. Without GRO (older kernels) this is a plain
/// `recvmmsg` reader. Datagrams reach the consumer one at a time (`onDatagram`) or a window at a time
/// (`startReceiving(windows:)`), bytes borrowed from the slab, nothing allocated per datagram. Loop-owned: not
/// `Sendable`.
public final class UDPReceiver: LoopHandle {
    /// Entries one `recvmmsg` call can return.
    public static let batchEntries = 64
    /// The largest UDP payload, and the largest GRO train the kernel builds: the size of one slab slot.
    public static let slotBytes = 64 * 1024
    /// `recvmmsg` calls per readiness event at most, so a flood cannot hold the loop.
    public static let callsPerWakeup = 16
    /// Datagrams listed from one batch before they are handed over (64 entries of up to 64 GRO segments).
    static let listCapacity = 4_096
    /// Datagrams per `beforeBatch` window.
    public static let warmWindow = 32

    private let fd: Int32
    private let slab: UnsafeMutableRawBufferPointer
    private let entries: UnsafeMutablePointer<hf_udp_entry>
    private let datagrams: UnsafeMutablePointer<UDPDatagram>
    private var onDatagram: ((UDPDatagram) -> Void)?
    private var beforeBatch: ((UDPBatch) -> Void)?
    private var onWindow: ((UDPBatch) -> Void)?
    private var onError: ((UVError) -> Void)?
    /// Whether the kernel agreed to coalesce (UDP GRO).
    public let usesGRO: Bool

    /// Datagrams delivered to the callback (each segment of a GRO train counts), truncated ones included.
    public private(set) var receivedDatagrams: UInt64 = 0
    /// GRO trains received (buffers holding more than one datagram).
    public private(set) var coalescedBuffers: UInt64 = 0
    /// Datagrams the kernel truncated (`MSG_TRUNC`).
    public private(set) var truncatedDatagrams: UInt64 = 0
    /// Receive errors.
    public private(set) var receiveErrors: UInt64 = 0

    /// A socket bound to `address` (port 0 picks a free one); `gro: false` turns coalescing off.
    public init(loop: Loop, bindTo address: SocketAddress, gro: Bool = true) throws(UVError) {
        let opened = address.withSockAddr { hf_udp_open_bound($0, socklen_t(hf_sockaddr_length($0))) }
        guard opened >= 0 else { throw UVError(code: opened, operation: "bind udp \(address)") }
        fd = opened
        usesGRO = gro && hf_udp_enable_gro(opened) == 0
        slab = .allocate(byteCount: Self.batchEntries * Self.slotBytes, alignment: 16)
        entries = .allocate(capacity: Self.batchEntries)
        entries.initialize(repeating: hf_udp_entry(), count: Self.batchEntries)
        datagrams = .allocate(capacity: Self.listCapacity)
        super.init(loop: loop, type: UV_POLL)
        let rc = uv_poll_init_socket(loop.raw, poll, opened)
        if rc < 0 {
            _ = hf_close(opened)
            throw UVError(code: rc, operation: "uv_poll_init_socket")
        }
        didInitialize()
    }

    deinit {
        slab.deallocate()
        entries.deinitialize(count: Self.batchEntries)
        entries.deallocate()
        datagrams.deallocate()
    }

    private var poll: UnsafeMutablePointer<uv_poll_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_poll_t.self)
    }

    /// The bound local address.
    public func localAddress() throws(UVError) -> SocketAddress {
        var storage = sockaddr_storage()
        try UVError.check(hf_socket_name(fd, &storage), "getsockname")
        return withUnsafePointer(to: storage) { SocketAddress(hf_storage_as_sockaddr($0)) }
    }

    /// The kernel receive buffer (`SO_RCVBUF`) in bytes, as the kernel reports it (Linux doubles the request).
    public var receiveBufferBytes: Int { max(0, Int(hf_socket_rcvbuf(fd))) }

    /// Asks for a `SO_RCVBUF` of `bytes` (capped by `net.core.rmem_max`); returns what the kernel granted.
    @discardableResult
    public func setReceiveBuffer(bytes: Int) throws(UVError) -> Int {
        try UVError.check(hf_socket_set_rcvbuf(fd, Int32(clamping: bytes)), "setsockopt SO_RCVBUF")
        return receiveBufferBytes
    }

    /// Starts receiving: `onDatagram` runs on the loop once per datagram, with bytes borrowed from the slab.
    /// `beforeBatch`, when given, first sees every datagram of a `recvmmsg` batch (to prefetch what they will need).
    public func startReceiving(onError: ((UVError) -> Void)? = nil, beforeBatch: ((UDPBatch) -> Void)? = nil,
                               _ onDatagram: @escaping (UDPDatagram) -> Void) throws(UVError) {
        try start(onError: onError, onDatagram: onDatagram, beforeBatch: beforeBatch, onWindow: nil)
    }

    /// Starts receiving a window at a time: `onWindow` runs on the loop with up to ``warmWindow`` datagrams (truncated
    /// ones included and marked), in arrival order, bytes borrowed from the slab for the call. For consumers that work
    /// on several datagrams at once; one closure call per window instead of one per datagram.
    public func startReceiving(onError: ((UVError) -> Void)? = nil,
                               windows onWindow: @escaping (UDPBatch) -> Void) throws(UVError) {
        try start(onError: onError, onDatagram: nil, beforeBatch: nil, onWindow: onWindow)
    }

    private func start(onError: ((UVError) -> Void)?, onDatagram: ((UDPDatagram) -> Void)?,
                       beforeBatch: ((UDPBatch) -> Void)?, onWindow: ((UDPBatch) -> Void)?) throws(UVError) {
        loop.assertOnLoop()
        self.onDatagram = onDatagram
        self.onError = onError
        self.beforeBatch = beforeBatch
        self.onWindow = onWindow
        try UVError.check(uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { handle, status, _ in
            guard let handle, let data = handle.pointee.data else { return }
            Unmanaged<UDPReceiver>.fromOpaque(data).takeUnretainedValue().readable(status: status)
        }, "uv_poll_start")
    }

    /// Stops receiving; ``startReceiving(onError:_:)`` may start again.
    public func stopReceiving() {
        guard !isClosing else { return }
        uv_poll_stop(poll)
    }

    private func readable(status: Int32) {
        if status < 0 {
            receiveErrors &+= 1
            onError?(UVError(code: status, operation: "udp poll"))
            return
        }
        let base = slab.baseAddress!.assumingMemoryBound(to: CChar.self)
        for _ in 0..<Self.callsPerWakeup {
            let n = Int(hf_udp_recv_batch(fd, base, Self.slotBytes, Int32(Self.batchEntries), entries))
            if n < 0 {
                receiveErrors &+= 1
                onError?(UVError(code: Int32(n), operation: "recvmmsg"))
                return
            }
            var listed = 0
            for i in 0..<n { listed = list(entry: i, into: listed) }
            deliver(listed)
            // A short batch means the queue is empty; the poll handle wakes us for the next one.
            // Nobody to deliver to: the handle closed during the delivery.
            if n < Self.batchEntries || (onDatagram == nil && onWindow == nil) { return }
        }
    }

    /// Appends entry `i`'s datagrams (a GRO train split at its segment size) to `datagrams` from `listed` on;
    /// delivers the list first whenever it is full. Returns the new length of the list.
    private func list(entry i: Int, into listed: Int) -> Int {
        var listed = listed
        let entry = entries + i
        let start = slab.baseAddress! + i * Self.slotBytes
        let length = Int(entry.pointee.length)
        let truncated = entry.pointee.truncated != 0
        let segment = Int(entry.pointee.segment)
        // `sender` is the entry's first member, so the entry's address is the address's.
        let sender = hf_storage_as_sockaddr(UnsafeRawPointer(entry).assumingMemoryBound(to: sockaddr_storage.self))!
        guard segment > 0, segment < length, !truncated else {
            if listed == Self.listCapacity { deliver(listed); listed = 0 }
            if truncated { truncatedDatagrams &+= 1 }
            datagrams[listed] = UDPDatagram(bytes: UnsafeRawBufferPointer(start: start, count: length), sender: sender,
                                            isTruncated: truncated)
            return listed + 1
        }
        coalescedBuffers &+= 1
        var offset = 0
        while offset < length {
            if listed == Self.listCapacity { deliver(listed); listed = 0 }
            datagrams[listed] = UDPDatagram(bytes: UnsafeRawBufferPointer(start: start + offset,
                                                                          count: min(segment, length - offset)),
                                            sender: sender, isTruncated: false)
            listed += 1
            offset += segment
        }
        return listed
    }

    /// Hands the first `count` listed datagrams over, `warmWindow` at a time: `beforeBatch` sees a window, then
    /// `onDatagram` gets each of its datagrams. A window is small enough that what `beforeBatch` pulled into the
    /// cache for it is still there when its datagrams are processed.
    private func deliver(_ count: Int) {
        var from = 0
        while from < count {
            let to = min(count, from + Self.warmWindow)
            let window = UDPBatch(datagrams: UnsafeBufferPointer(start: datagrams + from, count: to - from))
            if let onWindow {
                receivedDatagrams &+= UInt64(to - from)
                onWindow(window)
                from = to
                continue
            }
            beforeBatch?(window)
            for k in from..<to {
                receivedDatagrams &+= 1
                onDatagram?(datagrams[k])
            }
            from = to
        }
    }

    override func willClose() {
        uv_poll_stop(poll)
    }

    override func didClose() {
        _ = hf_close(fd)
        onDatagram = nil
        beforeBatch = nil
        onWindow = nil
        onError = nil
    }
}

/// A window of up to ``UDPReceiver/warmWindow`` received datagrams, borrowed from a ``UDPReceiver``'s slab for the
/// length of a `beforeBatch` call (GRO trains already split into their datagrams), in arrival order.
public struct UDPBatch {
    /// The datagrams; truncated ones are included and marked.
    public let datagrams: UnsafeBufferPointer<UDPDatagram>

    /// A window over `datagrams` (the receiver's own, or a test's).
    public init(datagrams: UnsafeBufferPointer<UDPDatagram>) {
        self.datagrams = datagrams
    }

    /// Calls `body` with each whole (not truncated) datagram's bytes, in arrival order.
    @inline(__always)
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        for d in datagrams where !d.isTruncated { body(d.bytes) }
    }
}

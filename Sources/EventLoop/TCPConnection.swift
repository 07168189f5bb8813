import CLibUV

/// One TCP stream (`uv_tcp_t`): reads lend bytes from the loop's read slab, writes copy only what the kernel
/// did not take at once into a pooled request, and ``queuedBytes`` tells callers when to apply backpressure.
public final class TCPConnection: LoopHandle {
    private var onRead: ((UnsafeRawBufferPointer) -> Void)?
    private var onEnd: (() -> Void)?
    private var onCloseCallbacks: [() -> Void] = []
    /// Runs on the loop when queued writes have all been flushed to the kernel.
    public var onDrained: (() -> Void)?
    /// The error that ended the connection, if one did (read or write failure); nil after a clean close.
    public private(set) var error: UVError?
    private var reading = false
    private var connectCallback: ((UVError?) -> Void)?

    init(loop: Loop) throws(UVError) {
        super.init(loop: loop, type: UV_TCP)
        try UVError.check(uv_tcp_init(loop.raw, tcp), "uv_tcp_init")
        didInitialize()
    }

    private var tcp: UnsafeMutablePointer<uv_tcp_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_tcp_t.self)
    }
    var stream: UnsafeMutablePointer<uv_stream_t> { hf_tcp_as_stream(tcp) }

    func didAccept() {
        uv_tcp_nodelay(tcp, 1)
    }

    /// Connects to `address`; `completion` runs on the loop with nil on success. A client for tests and tools.
    public static func connect(loop: Loop, to address: SocketAddress,
                               _ completion: @escaping (TCPConnection, UVError?) -> Void) throws(UVError) -> TCPConnection {
        loop.assertOnLoop()
        let connection = try TCPConnection(loop: loop)
        connection.connectCallback = { [unowned connection] error in completion(connection, error) }
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.initialize(to: uv_connect_t())
        request.pointee.data = Unmanaged.passRetained(connection).toOpaque()
        let rc = address.withSockAddr { sa in
            uv_tcp_connect(request, connection.tcp, sa) { request, status in
                guard let request else { return }
                defer { request.deallocate() }
                guard let data = request.pointee.data else { return }
                let owner = Unmanaged<TCPConnection>.fromOpaque(data).takeRetainedValue()
                let callback = owner.connectCallback
                owner.connectCallback = nil
                if status == 0 { owner.didAccept() }
                callback?(status < 0 ? UVError(code: status, operation: "uv_tcp_connect") : nil)
            }
        }
        if rc < 0 {
            Unmanaged<TCPConnection>.fromOpaque(request.pointee.data!).release()
            request.deallocate()
            connection.close()
            throw UVError(code: rc, operation: "uv_tcp_connect")
        }
        return connection
    }

    /// Serves an already connected stream socket the caller made (one end of a `socketpair`): the fuzz harness's way
    /// to feed the HTTP server bytes without a listener. The connection owns `descriptor` from now on.
    public static func adopt(loop: Loop, descriptor: Int32) throws(UVError) -> TCPConnection {
        loop.assertOnLoop()
        let connection = try TCPConnection(loop: loop)
        let rc = uv_tcp_open(connection.tcp, uv_os_sock_t(descriptor))
        if rc < 0 {
            connection.close()
            throw UVError(code: rc, operation: "uv_tcp_open")
        }
        return connection
    }

    /// The peer's address, when still connected.
    public var peerAddress: SocketAddress? {
        guard !isClosing else { return nil }
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { raw in
            uv_tcp_getpeername(tcp, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: storage) { SocketAddress(hf_storage_as_sockaddr($0)) }
    }

    /// Adds a callback that runs once, on the loop, after the connection closed (for any reason).
    public func onClose(_ callback: @escaping () -> Void) {
        onCloseCallbacks.append(callback)
    }

    /// Starts reading. `onRead` gets bytes borrowed from the loop's read slab, valid only during the call.
    /// `onEnd` runs when the peer half-closes (EOF); without it the connection closes on EOF.
    /// A read error records ``error`` and closes the connection.
    public func startReading(onEnd: (() -> Void)? = nil, _ onRead: @escaping (UnsafeRawBufferPointer) -> Void) {
        loop.assertOnLoop()
        guard !isClosing else { return }
        self.onRead = onRead
        self.onEnd = onEnd
        resumeReading()
    }

    /// Stops reading for now (backpressure on the peer); ``resumeReading()`` continues.
    public func pauseReading() {
        guard reading, !isClosing else { return }
        reading = false
        uv_read_stop(stream)
    }

    /// Resumes reading after ``pauseReading()``.
    public func resumeReading() {
        guard !reading, !isClosing, onRead != nil else { return }
        let rc = uv_read_start(stream, { handle, _, buffer in
            guard let handle, let buffer, let data = handle.pointee.data else { return }
            let owner = Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue()
            let slab = owner.loop.readSlab
            buffer.pointee = uv_buf_init(slab.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(slab.count))
        }, { stream, nread, buffer in
            guard let stream, let data = stream.pointee.data else { return }
            Unmanaged<TCPConnection>.fromOpaque(data).takeUnretainedValue().didRead(nread: nread, buffer: buffer)
        })
        if rc < 0 { fail(UVError(code: rc, operation: "uv_read_start")) } else { reading = true }
    }

    /// Whether the connection is reading (not paused, not closed).
    public var isReading: Bool { reading && !isClosing }

    private func didRead(nread: Int, buffer: UnsafePointer<uv_buf_t>?) {
        if nread > 0, let base = buffer?.pointee.base {
            onRead?(UnsafeRawBufferPointer(start: base, count: nread))
        } else if nread == Int(UV_EOF.rawValue) {
            reading = false
            uv_read_stop(stream)
            if let onEnd { onEnd() } else { close() }
        } else if nread < 0 {
            fail(UVError(code: Int32(truncatingIfNeeded: nread), operation: "read"))
        }
    }

    /// Bytes accepted by ``write(_:)`` and not yet handed to the kernel: libuv's queue plus the staged chunks.
    public var queuedBytes: Int { isClosing ? 0 : uv_stream_get_write_queue_size(stream) + stagedBytes }

    /// Writes `bytes`: what the kernel takes at once costs no copy; the rest is copied into pooled 16 KiB chunks and
    /// sent in order. Returns false (dropping the bytes) when the connection is closing.
    ///
    /// At most one libuv write is in flight per connection; bytes arriving meanwhile fill staged chunks that go out
    /// together (one `writev`) when it completes. A slow reader's backlog is then a few large chunks, not one
    /// request per message: closing it cancels one write, not thousands (which stalled the loop for tens of ms).
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        loop.assertOnLoop()
        guard !isClosing else { return false }
        guard bytes.count > 0 else { return true }
        var offset = 0
        if writesInFlight == 0 && staged.isEmpty && uv_stream_get_write_queue_size(stream) == 0 {
            var buf = uv_buf_init(UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: CChar.self)),
                                  UInt32(bytes.count))
            let rc = uv_try_write(stream, &buf, 1)
            if rc > 0 {
                offset = Int(rc)
                if offset == bytes.count { return true }
            } else if rc < 0, rc != UV_EAGAIN.rawValue {
                fail(UVError(code: rc, operation: "uv_try_write"))
                return false
            }
        }
        stage(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        return writesInFlight > 0 || submitStaged()
    }

    /// Writes `bytes`; see ``write(_:)-(UnsafeRawBufferPointer)``.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Chunks filled and not yet handed to libuv, oldest first; the last may have room.
    private var staged: [WriteRequest] = []
    private var stagedBytes = 0
    /// libuv writes not completed yet (1 in steady state; 2 briefly after `shutdownWrite`).
    private var writesInFlight = 0

    private func stage(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            if staged.last.map({ $0.count == $0.capacity }) ?? true {
                staged.append(WriteRequest.take(from: loop, bytes: WriteRequest.pooledBytes))
            }
            let chunk = staged[staged.count - 1]
            let n = min(chunk.capacity - chunk.count, bytes.count - offset)
            (chunk.buffer + chunk.count).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            chunk.count += n
            offset += n
        }
        stagedBytes += bytes.count
    }

    /// Hands every staged chunk to libuv as one write; false (and the connection fails) when libuv refuses.
    private func submitStaged() -> Bool {
        guard !staged.isEmpty else { return true }
        let chunks = staged
        staged = []
        stagedBytes = 0
        // The first chunk's `uv_write_t` carries the write; the others ride along until its callback.
        let head = chunks[0]
        head.chained = Array(chunks.dropFirst())
        head.owner = Unmanaged.passRetained(self)
        head.request.pointee.data = Unmanaged.passRetained(head).toOpaque()
        let bufs = UnsafeMutablePointer<uv_buf_t>.allocate(capacity: chunks.count)
        defer { bufs.deallocate() }   // libuv copies the buffer descriptors
        for (i, c) in chunks.enumerated() {
            bufs[i] = uv_buf_init(c.buffer.assumingMemoryBound(to: CChar.self), UInt32(c.count))
        }
        let rc = uv_write(head.request, stream, bufs, UInt32(chunks.count)) { req, status in
            guard let req, let data = req.pointee.data else { return }
            req.pointee.data = nil
            let head = Unmanaged<WriteRequest>.fromOpaque(data).takeRetainedValue()
            guard let owner = head.owner?.takeRetainedValue() else { return }
            owner.didWrite(head, status: status)
        }
        if rc < 0 {
            Unmanaged<WriteRequest>.fromOpaque(head.request.pointee.data!).release()
            head.request.pointee.data = nil
            head.owner?.release()
            recycle(head)
            fail(UVError(code: rc, operation: "uv_write"))
            return false
        }
        writesInFlight += 1
        return true
    }

    private func recycle(_ head: WriteRequest) {
        for c in head.chained { c.recycle(into: loop) }
        head.chained = []
        head.recycle(into: loop)
    }

    private func didWrite(_ head: WriteRequest, status: Int32) {
        recycle(head)
        writesInFlight -= 1
        if status < 0 {
            if status != UV_ECANCELED.rawValue { fail(UVError(code: status, operation: "write")) }
            return
        }
        guard !isClosing else { return }
        if !staged.isEmpty {
            if writesInFlight == 0 { _ = submitStaged() }
            return
        }
        if writesInFlight == 0 && uv_stream_get_write_queue_size(stream) == 0 { onDrained?() }
    }

    /// Half-closes: sends FIN after the queued writes (`uv_shutdown`); reading continues. With `thenClose`, the
    /// connection closes once the FIN is sent, which is how a response followed by `Connection: close` ends.
    /// Calling it again with `thenClose` after a plain half-close closes once the FIN is out (at once if it is).
    public func shutdownWrite(thenClose: Bool = false) {
        loop.assertOnLoop()
        guard !isClosing else { return }
        if writeShutDown {
            if thenClose {
                if shutdownDone { close() } else { closeAfterShutdown = true }
            }
            return
        }
        writeShutDown = true
        closeAfterShutdown = thenClose
        // The FIN follows libuv's queue: staged bytes join it first (a second write in flight is fine here).
        if !staged.isEmpty { guard submitStaged() else { return } }
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        request.initialize(to: uv_shutdown_t())
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_shutdown(request, stream) { request, status in
            guard let request else { return }
            defer { request.deallocate() }
            guard let data = request.pointee.data else { return }
            let owner = Unmanaged<TCPConnection>.fromOpaque(data).takeRetainedValue()
            owner.shutdownDone = true
            if owner.closeAfterShutdown || status < 0 { owner.close() }
        }
        if rc < 0 {
            Unmanaged<TCPConnection>.fromOpaque(request.pointee.data!).release()
            request.deallocate()
            close()
        }
    }
    private var writeShutDown = false
    private var shutdownDone = false
    private var closeAfterShutdown = false

    /// Whether ``shutdownWrite(thenClose:)`` was called.
    public var isWriteShutDown: Bool { writeShutDown }

    /// Records `error` and closes.
    private func fail(_ error: UVError) {
        if self.error == nil { self.error = error }
        close()
    }

    override func didClose() {
        for c in staged { c.recycle(into: loop) }
        staged = []
        stagedBytes = 0
        reading = false
        onRead = nil
        onEnd = nil
        onDrained = nil
        connectCallback = nil
        let callbacks = onCloseCallbacks
        onCloseCallbacks = []
        for callback in callbacks { callback() }
    }
}

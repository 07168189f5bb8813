import CWslay
import EventLoop

/// One upgraded WebSocket connection, framed by wslay's event API over the loop's TCP connection.
///
/// ```
///  TCP read ─▶ wslay_event_recv ─▶ (recv_callback serves the borrowed bytes)
///                 ├─ frame chunks ─▶ incremental UTF-8 check of text (fail fast: close 1007)
///                 └─ whole message ─▶ onText / onBinary        ping ─▶ pong, close ─▶ close reply (wslay)
///  send(text:) ─▶ wslay_event_queue_msg ─▶ wslay_event_send ─▶ send_callback (collects) ─▶ TCPConnection.write
/// ```
/// Backpressure: ``queuedBytes`` counts wslay's queue plus the socket's; past
/// ``WebSocketConfiguration/maxQueuedBytes`` the connection is closed with the overflow code (1013 by default)
/// and the server counts an eviction. The loop never waits for a client. Loop-owned: not `Sendable`.
///
/// Memory: a wslay context holds two 4 KiB frame buffers, more than all the rest of an idle connection. So the
/// context is made when the connection needs wslay (bytes arrive, a message is queued, a close starts) and freed
/// again ("parked") as soon as the connection is clean: no partial frame or fragmented message received, nothing
/// queued, no close begun. A parked connection is open; its next use makes a fresh context, which is all wslay
/// would hold between two whole messages anyway. Freed at once, the next connection's context reuses the memory:
/// kept until a later sweep, ten thousand subscribers' contexts left a fragmented heap that the allocator could not
/// give back (11 KB of RSS per idle subscriber instead of 2.5 KB).
public final class WebSocketConnection {
    /// Runs for each complete text message (validated UTF-8).
    public var onText: ((String) -> Void)?
    /// Runs for each complete binary message; the bytes are borrowed for the call.
    public var onBinary: ((UnsafeRawBufferPointer) -> Void)?
    /// Runs once when the connection ends, with the peer's close code (1006 when it vanished without one) and
    /// reason.
    public var onClose: ((UInt16, String) -> Void)?
    /// A slot for the owner's per-connection state (a session, a subscription set).
    public var userData: AnyObject?

    /// Strong: counters and the clock live there; the cycle through the server's connection table ends when the
    /// transport closes.
    private let server: HTTPServer
    /// Inside `pump`: the bytes wslay sent so far, written in one go when it returns.
    private var pendingOut: [UInt8]?
    private let tcp: TCPConnection
    private let configuration: WebSocketConfiguration
    private var life = Life.parked
    /// Bytes handed to wslay, and the wire size of the frames it has started (header + payload): equal when it
    /// holds no partial frame.
    private var bytesFed: UInt64 = 0
    private var bytesFramed: UInt64 = 0
    /// A data message whose final fragment has not arrived.
    private var messageInProgress = false
    /// Inside `wslay_event_recv`: the context must outlive the call (a message callback may send). Not a life
    /// state: a callback may start the close while it is set.
    private var inReceive = false
    private var input: UnsafeRawBufferPointer?
    private var inputOffset = 0
    private var validator = UTF8Validator()
    private var frameIsText = false
    private var messageIsText = false
    private var frameIsControl = false
    private var invalidUTF8 = false
    private var lastReceiveMs: UInt64
    /// Frames of the data message in progress (``WebSocketConfiguration/maxFragmentsPerMessage``).
    private var fragmentsInMessage = 0
    /// Control frames received since `controlWindowStartMs` (``WebSocketConfiguration/maxControlFramesPerSecond``).
    private var controlFramesInWindow = 0
    private var controlWindowStartMs: UInt64 = 0
    private var receivedCloseCode: UInt16 = 1006
    private var receivedCloseReason = ""

    /// The wslay context's life; each state holds what is only valid in it.
    ///
    /// ```
    ///  parked ──(wslay needed)──▶ active ──(our close queued, or wslay's answer to the peer's sent)──▶ closing
    ///    ▲                          │                                                                  │
    ///    └───(clean: parkIfClean)───┘                                                                  │
    ///  any ──(transport closed; or no memory for a context)──▶ finished ◀──(transport closed)──────────┘
    /// ```
    private enum Life {
        /// Open with no wslay context (see the type's note).
        case parked
        /// Open with a wslay context.
        case active(wslay_event_context_ptr)
        /// Our close frame is queued or sent (the peer's answer, or ``WebSocketConfiguration/closeTimeoutMs``,
        /// ends the connection); never parks again.
        case closing(wslay_event_context_ptr, closeSentAtMs: UInt64)
        /// The transport is closed or closing: wslay is never called again.
        case finished

        var context: wslay_event_context_ptr? {
            switch self {
            case .active(let context), .closing(let context, _): return context
            case .parked, .finished: return nil
            }
        }
    }

    init(server: HTTPServer, tcp: TCPConnection, configuration: WebSocketConfiguration) {
        self.server = server
        self.tcp = tcp
        self.configuration = configuration
        lastReceiveMs = server.loop.now
    }

    private static let callbacks: wslay_event_callbacks = {
        var callbacks = wslay_event_callbacks()
        callbacks.recv_callback = { _, buf, len, _, user in
            WebSocketConnection.from(user).read(into: buf!, capacity: len)
        }
        callbacks.send_callback = { _, data, len, _, user in
            WebSocketConnection.from(user).write(data!, len)
        }
        callbacks.on_frame_recv_start_callback = { _, arg, user in
            WebSocketConnection.from(user).frameStarted(arg!.pointee)
        }
        callbacks.on_frame_recv_chunk_callback = { _, arg, user in
            WebSocketConnection.from(user).frameChunk(UnsafeRawBufferPointer(start: arg!.pointee.data,
                                                                             count: arg!.pointee.data_length))
        }
        callbacks.on_msg_recv_callback = { _, arg, user in
            WebSocketConnection.from(user).message(arg!.pointee)
        }
        return callbacks
    }()

    /// The wslay context, made first if the connection is parked; nil once finished (or if wslay cannot allocate,
    /// which closes the connection).
    private func liveContext() -> wslay_event_context_ptr? {
        guard case .parked = life else { return life.context }
        var callbacks = Self.callbacks
        var ctx: wslay_event_context_ptr?
        // user_data is unretained: the server's connection table owns the handler, which owns this object,
        // until the TCP close callback, after which wslay is never called again.
        guard wslay_event_context_server_init(&ctx, &callbacks, Unmanaged.passUnretained(self).toOpaque()) == 0,
              let ctx else {
            life = .finished
            tcp.close()
            return nil
        }
        wslay_event_config_set_max_recv_msg_length(ctx, UInt64(configuration.maxMessageBytes))
        life = .active(ctx)
        bytesFed = 0
        bytesFramed = 0
        return ctx
    }

    /// Frees the wslay context when nothing in it is needed any more (see the type's note).
    private func parkIfClean() {
        guard !inReceive, case .active(let context) = life, !messageInProgress, bytesFed == bytesFramed,
              pendingOut == nil, wslay_event_get_close_sent(context) == 0, wslay_event_get_close_received(context) == 0,
              wslay_event_get_read_enabled(context) != 0, wslay_event_get_write_enabled(context) != 0,
              wslay_event_get_queued_msg_count(context) == 0, wslay_event_want_write(context) == 0
        else { return }
        wslay_event_context_free(context)
        life = .parked
        server.statistics.webSocketParks &+= 1
    }

    deinit {
        if let context = life.context { wslay_event_context_free(context) }
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> WebSocketConnection {
        Unmanaged<WebSocketConnection>.fromOpaque(user!).takeUnretainedValue()
    }

    /// Outgoing bytes not yet handed to the kernel: wslay's queue plus the socket's write queue.
    public var queuedBytes: Int {
        switch life {
        case .parked: return tcp.queuedBytes
        case .active(let context), .closing(let context, _):
            return wslay_event_get_queued_msg_length(context) + tcp.queuedBytes
        case .finished: return 0
        }
    }

    /// Whether the connection can still send (no close sent, not closed).
    public var isOpen: Bool {
        switch life {
        case .parked: return true
        case .active(let context), .closing(let context, _):
            return wslay_event_get_close_sent(context) == 0 && wslay_event_get_write_enabled(context) != 0
        case .finished: return false
        }
    }

    /// The peer's address.
    public var peerAddress: SocketAddress? { tcp.peerAddress }

    /// Queues a text message; false when the connection is closing or the client was evicted for not reading.
    @discardableResult
    public func send(text: String) -> Bool {
        var text = text
        return text.withUTF8 { queue(opcode: UInt8(WSLAY_TEXT_FRAME.rawValue), UnsafeRawBufferPointer($0)) }
    }

    /// Queues a text message from UTF-8 bytes the caller vouches for (a ``JSONWriter``'s output).
    @discardableResult
    public func send(textBytes: [UInt8]) -> Bool {
        textBytes.withUnsafeBytes { queue(opcode: UInt8(WSLAY_TEXT_FRAME.rawValue), $0) }
    }

    /// Queues a binary message.
    @discardableResult
    public func send(binary: UnsafeRawBufferPointer) -> Bool {
        queue(opcode: UInt8(WSLAY_BINARY_FRAME.rawValue), binary)
    }

    /// Queues a binary message.
    @discardableResult
    public func send(binary: [UInt8]) -> Bool {
        binary.withUnsafeBytes { queue(opcode: UInt8(WSLAY_BINARY_FRAME.rawValue), $0) }
    }

    /// Sends the message built in `frame` as one text (or binary) frame, header and payload in one socket write
    /// with no copy unless the kernel takes only part of it. The caller vouches that a text payload is UTF-8.
    /// Same answer and the same budget check as ``send(textBytes:)``; `frame` may be reset afterwards.
    @discardableResult
    public func send(_ frame: WebSocketFrameBuilder, binary: Bool) -> Bool {
        server.loop.assertOnLoop()
        guard isOpen else { return false }
        let opcode = UInt8(binary ? WSLAY_BINARY_FRAME.rawValue : WSLAY_TEXT_FRAME.rawValue)
        // wslay's queue is empty between pumps (its send callback takes every byte it is given), so a frame written
        // here lands between two of its frames, never inside one. Should it ever hold something, keep the order.
        if let context = life.context, wslay_event_get_queued_msg_count(context) != 0 {
            return queue(opcode: opcode, frame.payload)
        }
        guard tcp.write(frame.frame(opcode: opcode)) else { return false }
        return withinBudget()
    }

    /// Sends a ping (payload ≤ 125 bytes).
    @discardableResult
    public func ping(_ payload: [UInt8] = []) -> Bool {
        payload.withUnsafeBytes { queue(opcode: UInt8(WSLAY_PING.rawValue), $0) }
    }

    private func queue(opcode: UInt8, _ bytes: UnsafeRawBufferPointer) -> Bool {
        server.loop.assertOnLoop()
        guard isOpen, let context = liveContext() else { return false }
        var message = wslay_event_msg(opcode: opcode, msg: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                      msg_length: bytes.count)
        guard wslay_event_queue_msg(context, &message) == 0 else { return false }
        pump()
        guard withinBudget() else { return false }
        parkIfClean()
        return true
    }

    /// After a send: past ``WebSocketConfiguration/maxQueuedBytes`` unsent, closes with the overflow code, counts an
    /// eviction and answers false.
    private func withinBudget() -> Bool {
        guard queuedBytes > configuration.maxQueuedBytes else { return true }
        server.statistics.webSocketEvictions &+= 1
        close(code: configuration.overflowCloseCode, reason: "client too slow")
        return false
    }

    /// Starts the closing handshake with `code` and `reason` (≤ 123 bytes of UTF-8). The socket closes when the
    /// peer answers, or after ``WebSocketConfiguration/closeTimeoutMs``.
    public func close(code: UInt16 = 1000, reason: String = "") {
        guard let context = liveContext(), wslay_event_get_close_sent(context) == 0 else { return }
        var reason = Array(reason.utf8.prefix(123))
        while String(validating: reason, as: UTF8.self) == nil { reason.removeLast() }   // never cut a character
        let rc = reason.withUnsafeBufferPointer { wslay_event_queue_close(context, code, $0.baseAddress, $0.count) }
        if rc != 0 { tcp.close(); return }
        life = .closing(context, closeSentAtMs: server.loop.now)
        pump()
    }

    // MARK: Transport

    func received(_ bytes: UnsafeRawBufferPointer) {
        guard let context = liveContext() else { return }
        // After our close went out without the peer's, bytes are drained and dropped until it closes (no RST).
        guard wslay_event_get_read_enabled(context) != 0 else { return }
        lastReceiveMs = server.loop.now
        input = bytes
        inputOffset = 0
        inReceive = true
        let rc = wslay_event_recv(context)
        inReceive = false
        input = nil
        if rc != 0 {
            server.statistics.webSocketProtocolErrors &+= 1
            tcp.close()
            return
        }
        pump()
        parkIfClean()
    }

    func peerEnded() {
        // EOF: nothing more will come. Send what is queued, then close.
        if let context = liveContext() { wslay_event_shutdown_read(context) }
        pump()
        tcp.shutdownWrite(thenClose: true)
    }

    func transportClosed() {
        // A parked connection never makes a context again; one that has a context keeps it through `onClose`.
        if case .parked = life { life = .finished }
        // Taken before the call, so the peer's close is reported once.
        let callback = onClose
        onClose = nil
        callback?(receivedCloseCode, receivedCloseReason)
        onText = nil
        onBinary = nil
        userData = nil
        if let context = life.context { wslay_event_context_free(context) }
        life = .finished
    }

    func checkTimeouts(nowMs: UInt64) {
        if case .closing(_, let sentAtMs) = life {
            if nowMs >= sentAtMs + configuration.closeTimeoutMs { tcp.close() }
            return
        }
        if configuration.idleTimeoutMs > 0, nowMs >= lastReceiveMs + configuration.idleTimeoutMs {
            close(code: 1001, reason: "idle timeout")
            return
        }
        parkIfClean()
    }

    /// Sends what wslay queued; closes the socket once both sides' close frames went through.
    private func pump() {
        guard let context = life.context else { return }
        if wslay_event_want_write(context) != 0 {
            // wslay hands a frame over in pieces (its header, then the payload); collect them and write once, so a
            // frame costs one syscall and one TCP segment instead of two (measured: 2 writes per frame before).
            pendingOut = server.takeSendBuffer()
            let failed = wslay_event_send(context) != 0
            var out = pendingOut ?? []
            pendingOut = nil
            let written = out.isEmpty || tcp.write(out)
            server.returnSendBuffer(&out)
            if failed || !written {
                tcp.close()
                return
            }
        }
        if case .active = life, wslay_event_get_close_sent(context) != 0 {
            life = .closing(context, closeSentAtMs: server.loop.now)
        }
        if wslay_event_want_read(context) == 0, wslay_event_want_write(context) == 0 {
            // Close handshake complete: the server closes TCP first. When we closed for an error and the peer
            // has not answered, half-close and drain its bytes until it closes or `closeTimeoutMs` passes.
            tcp.shutdownWrite(thenClose: wslay_event_get_close_received(context) != 0)
        }
    }

    // MARK: wslay callbacks

    private func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        guard let input, inputOffset < input.count, life.context != nil else {
            if let context = life.context { wslay_event_set_error(context, Int32(WSLAY_ERR_WOULDBLOCK.rawValue)) }
            return -1
        }
        let n = min(capacity, input.count - inputOffset)
        UnsafeMutableRawPointer(buffer).copyMemory(from: input.baseAddress! + inputOffset, byteCount: n)
        inputOffset += n
        bytesFed &+= UInt64(n)
        return n
    }

    private func write(_ data: UnsafePointer<UInt8>, _ length: Int) -> Int {
        // wslay sends only from `pump`, which writes the collected pieces to TCP in one go. The TCP layer queues
        // whatever the kernel does not take, so wslay never sees "would block"; the budget check in `queue` bounds
        // what may pile up.
        guard pendingOut != nil else {
            if let context = life.context { wslay_event_set_error(context, Int32(WSLAY_ERR_CALLBACK_FAILURE.rawValue)) }
            return -1
        }
        pendingOut?.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        return length
    }

    private func frameStarted(_ frame: wslay_event_on_frame_recv_start_arg) {
        let opcode = frame.opcode
        // A client frame is masked (wslay refuses others); the length takes 0, 2 or 8 more bytes, least first.
        let length = frame.payload_length
        bytesFramed &+= 2 + 4 + (length < 126 ? 0 : length <= 0xFFFF ? 2 : 8) + length
        frameIsControl = opcode >= 0x8
        if frameIsControl {
            let now = server.loop.now
            if now >= controlWindowStartMs + 1_000 {
                controlWindowStartMs = now
                controlFramesInWindow = 0
            }
            controlFramesInWindow += 1
            if controlFramesInWindow > configuration.maxControlFramesPerSecond {
                failFlood("more than \(configuration.maxControlFramesPerSecond) control frames a second")
            }
            return
        }
        fragmentsInMessage = opcode == 0 ? fragmentsInMessage + 1 : 1
        if fragmentsInMessage > configuration.maxFragmentsPerMessage {
            failFlood("more than \(configuration.maxFragmentsPerMessage) fragments in one message")
        }
        messageInProgress = frame.fin == 0
        if opcode == UInt8(WSLAY_TEXT_FRAME.rawValue) {
            messageIsText = true
            validator.reset()
        } else if opcode == UInt8(WSLAY_BINARY_FRAME.rawValue) {
            messageIsText = false
        }
        frameIsText = messageIsText
    }

    private func frameChunk(_ bytes: UnsafeRawBufferPointer) {
        guard frameIsText, !frameIsControl, !invalidUTF8 else { return }
        if !validator.feed(bytes) { failInvalidUTF8() }
    }

    private func failInvalidUTF8() {
        invalidUTF8 = true
        server.statistics.webSocketProtocolErrors &+= 1
        closeFromCallback(code: 1007, reason: "")
    }

    /// A client flooding fragments or control frames: stop reading it and close with 1008 (policy).
    private func failFlood(_ reason: String) {
        guard case .active = life else { return }   // already closing: nothing more is read
        server.statistics.webSocketFloodCloses &+= 1
        closeFromCallback(code: 1008, reason: reason)
    }

    /// Inside a wslay callback: reads stop, our close is queued (sent by the `pump` after `wslay_event_recv`).
    private func closeFromCallback(code: UInt16, reason: String) {
        guard let context = life.context else { return }
        wslay_event_shutdown_read(context)
        let bytes = Array(reason.utf8.prefix(123))
        _ = bytes.withUnsafeBufferPointer { wslay_event_queue_close(context, code, $0.baseAddress, $0.count) }
        life = .closing(context, closeSentAtMs: server.loop.now)
    }

    private func message(_ arg: wslay_event_on_msg_recv_arg) {
        let bytes = UnsafeRawBufferPointer(start: arg.msg, count: arg.msg_length)
        switch arg.opcode {
        case UInt8(WSLAY_TEXT_FRAME.rawValue):
            guard !invalidUTF8 else { return }
            guard validator.isComplete else { failInvalidUTF8(); return }
            onText?(String(decoding: bytes, as: UTF8.self))
        case UInt8(WSLAY_BINARY_FRAME.rawValue):
            onBinary?(bytes)
        case UInt8(WSLAY_CONNECTION_CLOSE.rawValue):
            receivedCloseCode = arg.status_code == 0 ? 1005 : arg.status_code
            if bytes.count > 2 {
                let reason = UnsafeRawBufferPointer(rebasing: bytes[2...])
                var check = UTF8Validator()
                if check.feed(reason), check.isComplete {
                    receivedCloseReason = String(decoding: reason, as: UTF8.self)
                } else {
                    server.statistics.webSocketProtocolErrors &+= 1
                }
            }
        default:
            break   // pong: nothing to do; ping is answered by wslay
        }
    }
}

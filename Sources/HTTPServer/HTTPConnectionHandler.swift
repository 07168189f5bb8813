import CHTTPParser
import EventLoop

/// One client connection: feeds bytes through http-parser, dispatches complete requests, writes answers in
/// request order, enforces limits, and hands the socket to a ``WebSocketConnection`` after an upgrade.
///
/// ```
///  TCP bytes ─▶ http_parser_execute ─▶ on_message_complete ─▶ Router ─▶ handler(request, responder)
///                     │ pause when `maxPipelinedRequests` are unanswered           │ later, any order
///                     ▼                                                            ▼
///               stash (unparsed bytes)              responses[seq] ─▶ flush in seq order ─▶ TCP write
/// ```
final class HTTPConnectionHandler {
    /// Strong on purpose: the server must outlive its connections' close callbacks; the cycle through the
    /// server's connection table ends when the connection closes.
    let server: HTTPServer
    let tcp: TCPConnection
    private let parser: UnsafeMutablePointer<http_parser>
    private var config: HTTPServerConfiguration { server.configuration }

    // The request being parsed.
    private var url: [UInt8] = []
    private var headers: [(String, String)] = []
    private var field: [UInt8] = []
    private var value: [UInt8] = []
    private var inValue = false
    private var headBytes = 0
    private var body: [UInt8] = []
    private var limitError: APIError?
    private var upgradeRequest: HTTPRequest?

    // Pipeline: requests get sequence numbers; answers wait in `ready` until all earlier ones went out.
    private var nextSequence: UInt64 = 0
    private var flushedSequence: UInt64 = 0
    private var ready: [UInt64: (bytes: [UInt8], close: Bool)] = [:]
    private var stash: [UInt8] = []
    private var parsing = false
    private var paused = false
    private var finished = false          // no more requests will be read (error, Connection: close, upgrade)
    private(set) var isOpen = true
    var webSocket: WebSocketConnection?
    /// Index in the server's connection list; -1 once removed.
    var serverSlot = -1
    /// The peer's IP address, read at accept (one `getpeername` per connection, not per request).
    private var clientHost: String?

    // Timeouts, in loop milliseconds.
    private var requestStartMs: UInt64?
    /// Whether the current message's head is complete and its body is being read: bytes arriving then do not start
    /// the head timer, which would otherwise answer the idle connection with 408 once the message ended.
    private var headComplete = false
    private var lastActivityMs: UInt64

    init(server: HTTPServer, tcp: TCPConnection) {
        self.server = server
        self.tcp = tcp
        parser = .allocate(capacity: 1)
        http_parser_init(parser, HTTP_REQUEST)
        lastActivityMs = server.loop.now
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()   // the server's table keeps self alive
    }

    deinit { parser.deallocate() }

    func start() {
        clientHost = tcp.peerAddress?.host
        tcp.onClose { [weak self] in self?.didClose() }
        tcp.onDrained = { [weak self] in self?.resumeIfPossible() }
        tcp.startReading(onEnd: { [weak self] in self?.peerEnded() }) { [weak self] bytes in self?.received(bytes) }
    }

    private func didClose() {
        isOpen = false
        webSocket?.transportClosed()
        webSocket = nil
        server.connectionClosed(self)
    }

    private func peerEnded() {
        if let webSocket { webSocket.peerEnded(); return }
        // The client half-closed: answer what it asked, then close (at once if we already sent our FIN).
        finished = true
        if inFlight == 0 { tcp.shutdownWrite(thenClose: true) } else { closeAfterFlush = true }
    }

    /// When the server ended the exchange (an error answer, `Connection: close`), it half-closes and keeps reading
    /// and discarding until the client closes too, or this long passes. Closing at once while the client still
    /// sends (the rest of a refused body) makes the kernel answer with RST, which can destroy the answer before
    /// the client reads it.
    static let lingerMs: UInt64 = 2_000
    private var lingerStartMs: UInt64?
    private var closeAfterFlush = false

    var inFlight: Int { Int(nextSequence - flushedSequence) }

    // MARK: Reading

    private func received(_ bytes: UnsafeRawBufferPointer) {
        lastActivityMs = server.loop.now
        if let webSocket { webSocket.received(bytes); return }
        guard !finished else { return }
        if paused || parsing {
            stash.append(contentsOf: bytes)
            return
        }
        execute(bytes)
    }

    private func execute(_ bytes: UnsafeRawBufferPointer) {
        guard !finished, bytes.count > 0 else { return }
        if requestStartMs == nil, !headComplete { requestStartMs = server.loop.now }
        parsing = true
        let parsed = http_parser_execute(parser, &HTTPConnectionHandler.settings,
                                         bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        parsing = false
        let errno = hf_http_errno(parser)
        if let request = upgradeRequest {
            upgradeRequest = nil
            finished = true
            let rest = UnsafeRawBufferPointer(rebasing: bytes[min(parsed, bytes.count)...])
            server.upgrade(self, request: request, leftover: Array(rest))
            return
        }
        if finished { return }   // Connection: close was the last request; what follows is ignored
        if errno == HPE_PAUSED.rawValue {
            stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[min(parsed, bytes.count)...]))
            tcp.pauseReading()
            return
        }
        if errno != HPE_OK.rawValue {
            let error: APIError
            if let limitError {
                error = limitError
                if limitError.code == .badRequest {
                    server.statistics.badRequests &+= 1
                } else {
                    server.statistics.oversizedRequests &+= 1
                }
            } else if errno == HPE_HEADER_OVERFLOW.rawValue {
                error = APIError(.headersTooLarge, "the request head is larger than \(config.maxHeaderBytes) bytes")
                server.statistics.oversizedRequests &+= 1
            } else {
                let name = String(cString: http_errno_description(http_errno(errno)))
                error = APIError(.badRequest, "malformed HTTP request: \(name)")
                server.statistics.badRequests &+= 1
            }
            fail(error)
        }
    }

    /// Answers `error` after the earlier answers, then closes; reads nothing more.
    func fail(_ error: APIError) {
        finished = true
        stash = []
        tcp.resumeReading()   // keep draining what the client sends (discarded: `finished`); see `lingerMs`
        let sequence = nextSequence
        nextSequence += 1
        ready[sequence] = (HTTPResponse.error(error).serialized(close: true), true)
        flush()
    }

    private func resumeIfPossible() {
        guard paused, !parsing, !finished, inFlight < config.maxPipelinedRequests,
              tcp.queuedBytes < config.maxQueuedResponseBytes else { return }
        paused = false
        http_parser_pause(parser, 0)
        let pending = stash
        stash = []
        pending.withUnsafeBytes { execute($0) }
        if !paused && !finished { tcp.resumeReading() }
    }

    // MARK: Parser callbacks

    private func beginMessage() {
        url.removeAll(keepingCapacity: true)
        headers.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        body = []
        inValue = false
        headBytes = 0
        limitError = nil
        requestStartMs = server.loop.now
        headComplete = false
    }

    private func countHead(_ n: Int) -> Bool {
        headBytes += n
        if headBytes > config.maxHeaderBytes {
            limitError = APIError(.headersTooLarge, "the request head is larger than \(config.maxHeaderBytes) bytes")
            return false
        }
        return true
    }

    private func appendURL(_ p: UnsafePointer<CChar>, _ n: Int) -> Bool {
        guard countHead(n) else { return false }
        url.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        return true
    }

    private func appendField(_ p: UnsafePointer<CChar>, _ n: Int) -> Bool {
        guard countHead(n + 4) else { return false }
        if inValue { finishHeader() }
        field.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        return true
    }

    private func appendValue(_ p: UnsafePointer<CChar>, _ n: Int) -> Bool {
        guard countHead(n) else { return false }
        inValue = true
        value.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        return true
    }

    private func finishHeader() {
        guard !field.isEmpty || !value.isEmpty else { return }
        let name = String(decoding: field.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        headers.append((name, String(decoding: value, as: UTF8.self)))
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        inValue = false
    }

    private func headersComplete() -> Bool {
        finishHeader()
        requestStartMs = nil   // the head arrived in time; the body is covered by the idle timeout
        headComplete = true
        if parser.pointee.http_major != 1 {
            limitError = APIError(.badRequest, "unsupported HTTP version")
            return false
        }
        if inFlight == 0, parser.pointee.http_minor >= 1,
           headers.contains(where: { $0.0 == "expect" && $0.1.lowercased() == "100-continue" }) {
            tcp.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))   // the body is within limits: ask for it
        }
        if parser.pointee.content_length != UInt64.max, parser.pointee.content_length > UInt64(config.maxBodyBytes) {
            limitError = APIError(.payloadTooLarge, "the body is larger than \(config.maxBodyBytes) bytes")
            return false
        }
        return true
    }

    private func appendBody(_ p: UnsafePointer<CChar>, _ n: Int) -> Bool {
        guard body.count + n <= config.maxBodyBytes else {
            limitError = APIError(.payloadTooLarge, "the body is larger than \(config.maxBodyBytes) bytes")
            return false
        }
        body.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        return true
    }

    private func messageComplete() -> Bool {
        headComplete = false   // bytes after the message start the next one's head timer
        let target = String(decoding: url, as: UTF8.self)
        let keepAlive = http_should_keep_alive(parser) != 0
        let method = HTTPMethod(parserMethod: hf_http_method(parser))
        let methodName = String(cString: http_method_str(http_method(hf_http_method(parser))))
        let (rawPath, rawQuery) = HTTPRequest.splitTarget(target)
        var query: [(String, String)] = []
        var queryError: APIError?
        do { query = try QueryString.parse(rawQuery) } catch { queryError = error }
        let path = QueryString.decode(rawPath) ?? String(rawPath)
        let request = HTTPRequest(method: method, methodName: methodName, target: target, path: path, query: query,
                                  headers: headers, body: body, keepAlive: keepAlive, clientHost: clientHost)
        body = []
        if hf_http_upgrade(parser) != 0 {
            upgradeRequest = request
            return true
        }
        let sequence = nextSequence
        nextSequence += 1
        if !keepAlive { finished = true }
        server.statistics.requests &+= 1
        let responder = Responder(connection: self, sequence: sequence, isHead: method == .head)
        if let queryError {
            responder.fail(queryError)
        } else if !target.hasPrefix("/") && target != "*" {
            responder.fail(APIError(.badRequest, "the request target must be an absolute path"))
        } else if !server.router.dispatch(request, rawPath: rawPath, responder) {
            server.statistics.handlerErrors &+= 1
        }
        if finished {
            http_parser_pause(parser, 1)   // Connection: close: stop parsing; the rest of the input is ignored
            return true
        }
        if inFlight >= config.maxPipelinedRequests || tcp.queuedBytes >= config.maxQueuedResponseBytes {
            paused = true
            http_parser_pause(parser, 1)
        }
        return true
    }

    // MARK: Writing

    /// Called by a ``Responder``: stores the answer and writes every answer that is now next in order.
    func complete(sequence: UInt64, response: HTTPResponse, isHead: Bool) {
        guard isOpen, sequence >= flushedSequence, ready[sequence] == nil else { return }
        let close = finished && sequence == nextSequence - 1
        ready[sequence] = (response.serialized(close: close, isHead: isHead), close)
        flush()
    }

    private func flush() {
        while let answer = ready.removeValue(forKey: flushedSequence) {
            flushedSequence += 1
            tcp.write(answer.bytes)
            if answer.close || (closeAfterFlush && inFlight == 0) {
                ready.removeAll()
                tcp.shutdownWrite(thenClose: closeAfterFlush)
                lingerStartMs = server.loop.now
                return
            }
        }
        lastActivityMs = server.loop.now
        resumeIfPossible()
    }

    // MARK: Timeouts

    /// Called by the server's sweep timer.
    func checkTimeouts(nowMs: UInt64) {
        if let webSocket { webSocket.checkTimeouts(nowMs: nowMs); return }
        if let linger = lingerStartMs, nowMs >= linger + Self.lingerMs {
            tcp.close()
            return
        }
        guard isOpen, !finished else { return }
        if let start = requestStartMs, nowMs >= start + config.headerTimeoutMs {
            server.statistics.timeouts &+= 1
            fail(APIError(.requestTimeout, "the request head did not arrive in time"))
            return
        }
        if inFlight == 0, requestStartMs == nil, nowMs >= lastActivityMs + config.idleTimeoutMs {
            server.statistics.timeouts &+= 1
            finished = true
            tcp.close()
        }
    }

    // MARK: C callbacks

    private static func owner(_ p: UnsafeMutablePointer<http_parser>?) -> HTTPConnectionHandler {
        Unmanaged<HTTPConnectionHandler>.fromOpaque(p!.pointee.data!).takeUnretainedValue()
    }

    // http-parser reads settings only; `var` because the C signature takes a non-const pointer in Swift's view.
    nonisolated(unsafe) static var settings: http_parser_settings = {
        var s = http_parser_settings()
        s.on_message_begin = { p in owner(p).beginMessage(); return 0 }
        s.on_url = { p, at, n in owner(p).appendURL(at!, n) ? 0 : 1 }
        s.on_header_field = { p, at, n in owner(p).appendField(at!, n) ? 0 : 1 }
        s.on_header_value = { p, at, n in owner(p).appendValue(at!, n) ? 0 : 1 }
        s.on_headers_complete = { p in owner(p).headersComplete() ? 0 : -1 }
        s.on_body = { p, at, n in owner(p).appendBody(at!, n) ? 0 : 1 }
        s.on_message_complete = { p in owner(p).messageComplete() ? 0 : 1 }
        return s
    }()
}

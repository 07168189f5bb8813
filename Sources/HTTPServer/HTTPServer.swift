import CHTTPParser
import EventLoop

/// An HTTP/1.1 server on the loop: keep-alive, pipelining, limits, timeouts, a ``Router`` and WebSocket routes.
///
/// Everything runs on the loop thread; handlers answer through a ``Responder`` now or later. Counters are in
/// ``statistics``. `close()` stops listening and closes every connection.
public final class HTTPServer {
    /// The loop the server runs on.
    public let loop: Loop
    /// Limits and timeouts; read when each request is parsed, so changes apply to the next request.
    public var configuration: HTTPServerConfiguration
    /// The routes.
    public var router: Router
    /// Counters since start.
    public internal(set) var statistics = HTTPServerStatistics()

    private var listener: TCPServer?
    private var sweep: EventLoop.Timer?
    /// Open connections, dense: each handler knows its index (`serverSlot`), and a closed one is swapped out.
    private var connections: [HTTPConnectionHandler] = []
    /// Where the next timeout sweep slice starts in `connections`.
    private var sweepCursor = 0
    /// Handlers of one sweep slice (reused: a slice may close connections, which reorders `connections`).
    private var sweepBatch: [HTTPConnectionHandler] = []
    /// Sweep slices per timeout interval: every connection is checked once per interval, a slice at a time, so ten
    /// thousand connections never hold the loop for one long sweep (measured: 10–20 ms a second at 10,000).
    private static let sweepSlices = 10
    private var webSocketRoutes: [String: WebSocketRoute] = [:]
    /// One buffer shared by every WebSocket connection's sends (the loop sends for one connection at a time).
    private var sendBuffer: [UInt8] = []

    /// Lends the shared send buffer (empty, capacity kept); a nested send meanwhile gets a fresh one.
    func takeSendBuffer() -> [UInt8] {
        var b: [UInt8] = []
        swap(&b, &sendBuffer)
        return b
    }

    /// Returns a send buffer for reuse.
    func returnSendBuffer(_ b: inout [UInt8]) {
        b.removeAll(keepingCapacity: true)
        if b.capacity > sendBuffer.capacity { swap(&b, &sendBuffer) }
    }

    /// A server with `router` and `configuration`; call ``listen(host:port:)`` to start.
    public init(loop: Loop, configuration: HTTPServerConfiguration = HTTPServerConfiguration(), router: Router) {
        self.loop = loop
        self.configuration = configuration
        self.router = router
    }

    deinit {
        listener?.close()
        sweep?.close()
    }

    /// Open connections, HTTP and WebSocket.
    public var connectionCount: Int { connections.count }

    /// Binds and listens on `host:port` (port 0 picks one); returns the bound address.
    @discardableResult
    public func listen(host: String, port: Int) throws(UVError) -> SocketAddress {
        try listen(SocketAddress(host: host, port: port))
    }

    /// Binds and listens on `address`; returns the bound address.
    @discardableResult
    public func listen(_ address: SocketAddress) throws(UVError) -> SocketAddress {
        loop.assertOnLoop()
        let server = try TCPServer(loop: loop)
        let bound: SocketAddress
        do {
            bound = try server.bind(address)
            try server.listen { [weak self] connection in
                if let self { self.accept(connection) } else { connection.close() }
            }
        } catch {
            server.close()
            throw error
        }
        listener = server
        let timer = try EventLoop.Timer(loop: loop)
        timer.keepsLoopAlive = false
        let shortest = min(configuration.headerTimeoutMs, configuration.idleTimeoutMs,
                           configuration.webSocket.idleTimeoutMs == 0 ? .max : configuration.webSocket.idleTimeoutMs,
                           configuration.webSocket.closeTimeoutMs)
        let interval = max(10, min(1_000, shortest / 4))
        let slice = max(1, interval / UInt64(Self.sweepSlices))
        try timer.start(afterMs: slice, repeatMs: slice) { [weak self] in self?.sweepTimeoutSlice() }
        sweep = timer
        return bound
    }

    /// Registers a WebSocket endpoint at `path` (exact match, query ignored).
    ///
    /// - Parameters:
    ///   - accept: sees the upgrade request (headers, query: where a token is checked) and returns nil to accept
    ///     or an ``APIError`` to answer instead of upgrading.
    ///   - configuration: limits for this endpoint; nil uses ``HTTPServerConfiguration/webSocket``.
    ///   - onOpen: runs once the handshake was sent; set the connection's callbacks and user data here.
    ///     Capture the server weakly (or only its `loop`): the server keeps its routes.
    public func addWebSocketRoute(_ path: String, configuration: WebSocketConfiguration? = nil,
                                  accept: @escaping (HTTPRequest) -> APIError? = { _ in nil },
                                  onOpen: @escaping (WebSocketConnection, HTTPRequest) -> Void) {
        webSocketRoutes[path] = WebSocketRoute(configuration: configuration, accept: accept, onOpen: onOpen)
    }

    /// Registers the echo endpoint conformance suites use: every message comes back as it arrived.
    ///
    /// Its limits fit the Autobahn suite, which sends messages of up to 16 MiB and expects each one back whole:
    /// 16 MiB messages (+ slack) and a 64 MiB outgoing budget, so one echoed message never counts as a slow client.
    public func addWebSocketEchoRoute(_ path: String = "/v1/ws/echo") {
        var limits = configuration.webSocket
        limits.maxMessageBytes = max(limits.maxMessageBytes, (16 << 20) + 1024)
        limits.maxQueuedBytes = max(limits.maxQueuedBytes, 64 << 20)
        // Autobahn's 9.4.x cases send 4 MiB in 64-byte fragments (65,536 of them), and 2.x pings in bursts.
        limits.maxFragmentsPerMessage = max(limits.maxFragmentsPerMessage, 1 << 20)
        limits.maxControlFramesPerSecond = max(limits.maxControlFramesPerSecond, 100_000)
        addWebSocketRoute(path, configuration: limits) { connection, _ in
            connection.onText = { [unowned connection] text in connection.send(text: text) }
            connection.onBinary = { [unowned connection] bytes in connection.send(binary: bytes) }
        }
    }

    /// Stops listening and closes every connection (WebSockets with 1001 "going away").
    ///
    /// The timeout sweep keeps running (it never keeps the loop alive) until the last connection is gone: it is what
    /// ends a WebSocket peer that never answers the Close (``WebSocketConfiguration/closeTimeoutMs``); stopped
    /// with the listener, one such client kept the process from exiting.
    public func close() {
        listener?.close()
        listener = nil
        isClosed = true
        for connection in connections {
            if let ws = connection.webSocket { ws.close(code: 1001, reason: "server shutting down") }
            else { connection.tcp.close() }
        }
        stopSweepIfDone()
    }

    private var isClosed = false

    private func stopSweepIfDone() {
        guard isClosed, connections.isEmpty else { return }
        sweep?.close()
        sweep = nil
    }

    /// Serves a connection the caller opened itself (``TCPConnection/adopt(loop:descriptor:)``) as if the listener
    /// had accepted it: the fuzz harness drives the real parser, router and WebSocket path this way.
    public func serve(_ connection: TCPConnection) {
        loop.assertOnLoop()
        accept(connection)
    }

    private func accept(_ tcp: TCPConnection) {
        guard connections.count < configuration.maxConnections else {
            statistics.connectionsRefused &+= 1
            tcp.close()
            return
        }
        statistics.connectionsAccepted &+= 1
        let handler = HTTPConnectionHandler(server: self, tcp: tcp)
        handler.serverSlot = connections.count
        connections.append(handler)
        handler.start()
    }

    func connectionClosed(_ handler: HTTPConnectionHandler) {
        let slot = handler.serverSlot
        guard slot >= 0, slot < connections.count, connections[slot] === handler else { return }
        handler.serverSlot = -1
        let last = connections.removeLast()
        if slot < connections.count {
            connections[slot] = last
            last.serverSlot = slot
        }
        stopSweepIfDone()
    }

    /// Checks the timeouts of the next `1/sweepSlices` of the connections. A connection that closes meanwhile moves
    /// another into its place, which that round may then skip or check twice; the next round catches it, and every
    /// timeout here is seconds long.
    private func sweepTimeoutSlice() {
        guard !connections.isEmpty else { return }
        let now = loop.now
        let count = (connections.count + Self.sweepSlices - 1) / Self.sweepSlices
        if sweepCursor >= connections.count { sweepCursor = 0 }
        let end = min(connections.count, sweepCursor + count)
        sweepBatch.append(contentsOf: connections[sweepCursor..<end])
        sweepCursor = end
        for connection in sweepBatch { connection.checkTimeouts(nowMs: now) }
        sweepBatch.removeAll(keepingCapacity: true)
    }

    /// Completes an upgrade request: validates the handshake, asks the route, answers 101 and hands over.
    func upgrade(_ handler: HTTPConnectionHandler, request: HTTPRequest, leftover: [UInt8]) {
        guard handler.inFlight == 0 else {
            handler.fail(APIError(.badRequest, "an upgrade must not follow unanswered pipelined requests"))
            return
        }
        guard let route = webSocketRoutes[request.path] else {
            handler.fail(APIError(.notFound, "no WebSocket endpoint at \(request.path)"))
            return
        }
        let upgradeHeader = request.header("upgrade")?.lowercased() ?? ""
        guard request.method == .get, upgradeHeader.contains("websocket") else {
            handler.fail(APIError(.badRequest, "only WebSocket upgrades are supported"))
            return
        }
        guard request.header("sec-websocket-version") == "13" else {
            handler.fail(APIError(Code.upgradeRequired, "Sec-WebSocket-Version must be 13"))
            return
        }
        guard let key = request.header("sec-websocket-key"), let accept = WebSocketHandshake.acceptValue(forKey: key)
        else {
            handler.fail(APIError(.badRequest, "missing or malformed Sec-WebSocket-Key"))
            return
        }
        if let refusal = route.accept(request) {
            handler.fail(refusal)
            return
        }
        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(accept)\r\n\r\n"
        handler.tcp.write(Array(head.utf8))
        let ws = WebSocketConnection(server: self, tcp: handler.tcp,
                                     configuration: route.configuration ?? configuration.webSocket)
        statistics.webSocketUpgrades &+= 1
        handler.webSocket = ws
        route.onOpen(ws, request)
        if !leftover.isEmpty { leftover.withUnsafeBytes { ws.received($0) } }
    }

    private typealias Code = APIError.Code
}

extension APIError.Code {
    /// 426: the client must switch protocol versions (a WebSocket version other than 13).
    public static let upgradeRequired = APIError.Code("upgrade_required", 426)
}

struct WebSocketRoute {
    let configuration: WebSocketConfiguration?
    let accept: (HTTPRequest) -> APIError?
    let onOpen: (WebSocketConnection, HTTPRequest) -> Void
}

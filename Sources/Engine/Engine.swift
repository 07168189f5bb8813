import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import Dispatcher
import HexGeo
import Logging
import Vocabulary

/// The running engine: one libuv loop owning the sockets, the live fleet table, the tracking hub and every
/// module's loop-side state (docs/architecture.md). Loop-owned and deliberately not `Sendable`: everything
/// here runs on the loop thread, so nothing on the hot path takes a lock.
public final class Engine {
    public let loop: Loop
    public let configuration: EngineConfiguration
    public let table: DriverTable
    public let ingest: PingIngest
    public let keys: PingKeys
    public let auth: TokenAuthority
    let metrics = EngineMetrics()
    let logger: Logger
    public private(set) var http: HTTPServer?
    public private(set) var udp: UDPReceiver?
    public private(set) var httpAddress: SocketAddress?
    public private(set) var udpAddress: SocketAddress?
    var router = Router()
    private var tickTimer: EventLoop.Timer?
    private var lagProbe: LoopLagProbe?
    private var clockOffsetMs: Int64 = 0
    /// Extra work each tick (tracking hub, dispatch batching, demo fleet, …), run in registration order.
    var tickHandlers: [(Int64) -> Void] = []
    /// Work to do when the engine stops (flush storage, close modules), run in registration order.
    var stopHandlers: [() -> Void] = []
    /// Route registrations modules add before `start` (orders, routing, dispatch, …).
    var extraRoutes: [(Engine) -> Void] = []
    /// WebSocket endpoint registrations, run when the server is created.
    var webSocketRegistrations: [(Engine, HTTPServer) -> Void] = []
    public private(set) var isStopped = false
    /// Road network and queries; nil when no graph is configured.
    var routing: RoutingService?
    /// Dispatch state (waiting orders, offers).
    var dispatch: DispatchService?
    /// Pickup ETA of each order's latest offer.
    var dispatchOfferETAs: [UInt64: Double] = [:]
    /// Listeners for offer events (orders and notifications).
    var offerListeners: [(OfferEvent) -> Void] = []
    /// Demo order clock and ids (used only when the orders module is not installed).
    var demoNextOrderMs: Int64 = 0
    var demoOrderSequence: UInt64 = 0
    /// Set by the orders module: creates a durable demo order from pick-up to drop-off.
    var demoCreateOrder: ((LatLng, LatLng) -> Void)?
    /// Set by the orders module: a demo courier picked up (false) or delivered (true) an order.
    var demoOrderEvents: ((_ order: UInt64, _ courier: UInt64, _ delivered: Bool) -> Void)?
    /// Worker threads for CPU jobs over a millisecond (matrices, assignment solves, customizations).
    private(set) lazy var workers = WorkQueue(loop: loop)
    /// Seams between modules (see `EngineHooks`).
    var hooks = EngineHooks()
    /// Whether anonymous viewers may watch the fleet (bbox and cell subscriptions) — the demo's live map.
    var publicTracking: Bool { configuration.demo }

    /// Builds the engine on `loop` (the calling thread must be the loop's thread). Nothing is bound yet.
    public init(configuration: EngineConfiguration, loop: Loop, logger: Logger = Logger(label: "hexfleet.engine")) {
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        table = DriverTable(scheme: H3CellScheme(resolution: configuration.indexResolution),
                            staleAfterMs: configuration.staleAfterMs)
        keys = PingKeys(secret: configuration.udpSecret)
        auth = TokenAuthority(secret: configuration.tokenSecret, adminToken: configuration.adminToken)
        ingest = PingIngest(table: table, keys: keys, keyCacheSize: configuration.udpKeyCacheEntries)
        syncClock()
    }

    /// Unix time in milliseconds, from the loop's cached clock (one read per loop iteration).
    public var nowMs: Int64 { Int64(loop.now) &+ clockOffsetMs }

    private func syncClock() {
        loop.updateTime()
        clockOffsetMs = Int64((Date().timeIntervalSince1970 * 1000).rounded()) - Int64(loop.now)
    }

    private var installed = false

    /// Installs every module (routing, dispatch, tracking, orders, demo) and the routes; `start` does it when
    /// it was not done before. Separate so a caller can seed module state before the listeners open.
    public func install() throws {
        loop.assertOnLoop()
        guard !installed else { return }
        installed = true
        try installModules()
        registerRoutes()
    }

    /// Binds the listeners and starts the timers.
    public func start() throws {
        loop.assertOnLoop()
        try install()
        var httpConfiguration = HTTPServerConfiguration()
        // Tracking viewers are long-lived connections: leave room for tens of thousands.
        httpConfiguration.maxConnections = 60_000
        let server = HTTPServer(loop: loop, configuration: httpConfiguration, router: router)
        registerWebSockets(server)
        if configuration.webSocketEcho { server.addWebSocketEchoRoute("/v1/ws/echo") }
        httpAddress = try server.listen(host: configuration.httpHost, port: configuration.httpPort)
        http = server

        let socket = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: configuration.udpHost,
                                                                      port: configuration.udpPort),
                                     gro: configuration.udpGRO)
        udpAddress = try socket.localAddress()
        _ = try? socket.setReceiveBuffer(bytes: 8 << 20)
        try socket.startReceiving(windows: { [unowned self] window in self.ingest.ingestWindow(window, nowMs: self.nowMs) })
        udp = socket

        lagProbe = try loop.startLagProbe(intervalMs: 50)
        let timer = try EventLoop.Timer(loop: loop)
        try timer.start(afterMs: configuration.trackTickMs, repeatMs: configuration.trackTickMs) { [unowned self] in
            self.tick()
        }
        tickTimer = timer
        logger.info("engine listening", metadata: ["http": "\(httpAddress!)", "udp": "\(udpAddress!)"])
    }

    private var ticks: UInt64 = 0
    private func tick() {
        ticks &+= 1
        if ticks % 50 == 0 { syncClock() }
        let now = nowMs
        // Sweep a slice of the table per tick so a million drivers never stall the loop.
        table.evictStale(nowMs: now, maxRows: 20_000)
        if let lagProbe { metrics.recordLoopLag(nanoseconds: lagProbe.takeMaxLagNs()) }
        for handler in tickHandlers { handler(now) }
        metrics.flush(ingest.counters, liveDriverCount: table.count)
    }

    /// Closes every listener and timer; the loop then runs to empty.
    public func stop() {
        guard !isStopped else { return }
        isStopped = true
        for handler in stopHandlers { handler() }
        tickTimer?.close()
        lagProbe?.stop()
        udp?.close()
        http?.close()
        logger.info("engine stopped")
    }
}

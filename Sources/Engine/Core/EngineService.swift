import EventLoop
import HTTPServer

/// One part of the engine (ingest, fleet queries, routing, dispatch, orders, tracking, demo, metrics): it owns its
/// state, is given what it uses when it is made, and the composition root (`Engine`) calls these in one order.
/// Every requirement has a do-nothing default, so a service implements only what it has.
protocol EngineService: AnyObject {
    /// Adds the service's HTTP endpoints (before the listener binds).
    func registerRoutes(_ routes: RouteTable)
    /// Adds the service's WebSocket endpoints to the server (before it listens).
    func registerWebSockets(_ server: HTTPServer)
    /// Binds sockets or starts timers of its own, once the HTTP listener is up.
    func start() throws
    /// The engine's heartbeat (every `trackTickMs`), in start order.
    func tick(nowMs: Int64)
    /// Closes what the service opened; called once, in reverse start order.
    func stop()
}

extension EngineService {
    func registerRoutes(_ routes: RouteTable) {}
    func registerWebSockets(_ server: HTTPServer) {}
    func start() throws {}
    func tick(nowMs: Int64) {}
    func stop() {}
}

/// The engine's HTTP routes: every request passes the rate limiter (docs/limits.md) and every handler's time lands
/// in `hexfleet_http_request_duration_seconds`.
final class RouteTable {
    private(set) var router = Router()
    private let metrics: EngineMetrics
    private let rateLimiter: RequestRateLimiter?
    private let loop: Loop

    init(metrics: EngineMetrics, rateLimiter: RequestRateLimiter?, loop: Loop) {
        self.metrics = metrics
        self.rateLimiter = rateLimiter
        self.loop = loop
    }

    /// Adds a timed, rate-limited route.
    func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping (HTTPRequest, Responder) throws -> Void) {
        let metrics = self.metrics
        let rateLimiter = self.rateLimiter
        let loop = self.loop
        router.add(method, pattern) { request, responder in
            if let rateLimiter,
               let wait = rateLimiter.admit(authorization: request.header("authorization"), clientHost: request.clientHost,
                                            nowMs: loop.now) {
                responder.respond(RequestRateLimiter.refusal(retryAfterSeconds: wait))
                return
            }
            let start = Loop.nanoseconds
            defer { metrics.recordRequest(nanoseconds: Loop.nanoseconds &- start) }
            try handler(request, responder)
        }
    }
}

import Foundation
import HTTPServer

extension Engine {
    /// Installs the driver channel (`/v1/ws/driver`) and the tracking hub (`/v1/ws/track`): WebSocket routes,
    /// the ingest listener that feeds the hub, the tick that fans out, the push hooks and the stop work.
    func installTracking(_ configuration: TrackingConfiguration = TrackingConfiguration()) throws {
        // A write to a socket whose peer is gone must fail with EPIPE, not kill the process: libuv leaves SIGPIPE
        // alone, and a subscriber that disconnects with unread data is routine for a fan-out server.
        signal(SIGPIPE, SIG_IGN)
        let hub = TrackingHub(engine: self, configuration: configuration)
        let drivers = DriverChannel(engine: self, configuration: configuration)
        let census: () -> Void = { [unowned self, unowned hub, unowned drivers] in
            self.metrics.wsConnections.record(hub.connectionCount + drivers.connectionCount)
        }
        hub.connectionsChanged = census
        drivers.connectionsChanged = census
        webSocketRegistrations.append { _, server in
            // Per-route frame limits: wslay refuses a larger message with 1009 before buffering it.
            var track = server.configuration.webSocket
            track.maxMessageBytes = configuration.maxTrackMessageBytes
            var driver = server.configuration.webSocket
            driver.maxMessageBytes = max(configuration.maxDriverTextBytes, configuration.maxDriverBinaryBytes)
            server.addWebSocketRoute("/v1/ws/track", configuration: track, accept: { hub.accept($0) },
                                     onOpen: { hub.open($0, $1) })
            server.addWebSocketRoute("/v1/ws/driver", configuration: driver, accept: { drivers.accept($0) },
                                     onOpen: { drivers.open($0, $1) })
        }
        ingest.acceptedListeners.append { states, _ in for s in states { hub.noteAccepted(s) } }
        tickHandlers.append { now in hub.tick(nowMs: now); drivers.keepalive(nowMs: now) }
        stopHandlers.append { hub.stop(); drivers.stop() }
        hooks.pushToDriver = { id, json in drivers.push(id.rawValue, json) }
        hooks.pushToOrderWatchers = { order, json in hub.push(order: order, json) }
    }

    /// The caller of a WebSocket upgrade, from `?token=` or `Authorization: Bearer`; nil when neither is given.
    /// - Throws: `invalid_token` for a bad or expired token.
    func webSocketPrincipal(_ request: HTTPRequest) throws(APIError) -> Principal? {
        var token = request.query("token")
        if token == nil, let header = request.header("authorization") {
            let prefix = "bearer "
            guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else {
                throw APIError(.unauthorized, "authorization must be a bearer token")
            }
            token = String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        guard let token, !token.isEmpty else { return nil }
        guard let p = auth.verify(token, nowSeconds: nowMs / 1000) else { throw APIError(.invalidToken, "invalid or expired token") }
        return p
    }
}

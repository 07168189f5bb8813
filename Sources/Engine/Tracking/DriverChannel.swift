import CoreMetrics
import FleetIndex
import HTTPServer
import JSON
import Prometheus
import Vocabulary

/// The driver channel behind `/v1/ws/driver`: one authenticated WebSocket per driver carrying pings in (JSON text
/// or bare 32-byte binary records) and offers and order events out (`hooks.pushToDriver`).
///
/// Pings go through the same `PingIngest` path as UDP and HTTP and count with `transport="ws"`. A binary record
/// naming another driver is dropped as `foreign_driver`. A refused ping is answered with
/// `{"type":"error","code":…,"message":…}`; nothing is sent for accepted pings. A newer connection of the same
/// driver replaces the older one (closed with 1000 "replaced"). Loop-owned.
final class DriverChannel: EngineService {
    let configuration: TrackingConfiguration
    private let ingest: IngestService
    private let auth: Authenticator
    private let metrics: EngineMetrics
    private let clock: EngineClock
    private var connections: [UInt64: WebSocketConnection] = [:]
    /// Handlers for JSON messages that are not pings (`{"op":"accept",…}`); a handler returns true when it took
    /// the message (dispatch adds accept/decline).
    private var messageHandlers: [(_ driver: DriverID, _ op: String, _ message: JSONValue) -> Bool] = []
    private var keepalives: KeepaliveRounds
    private let foreignDriverMetric: CoreMetrics.Counter
    private let badRecordMetric: CoreMetrics.Counter
    /// Runs when a connection opens or closes.
    var connectionsChanged: () -> Void = {}

    init(configuration: TrackingConfiguration, tickMs: UInt64, ingest: IngestService, auth: Authenticator,
         metrics: EngineMetrics, clock: EngineClock) {
        self.configuration = configuration
        self.ingest = ingest
        self.auth = auth
        self.metrics = metrics
        self.clock = clock
        keepalives = KeepaliveRounds(keepaliveMs: configuration.keepaliveMs, tickMs: tickMs)
        let f = PrometheusMetricsFactory(registry: metrics.registry)
        // The same series the engine flushes ingest drops into (the registry hands back the existing counter).
        foreignDriverMetric = CoreMetrics.Counter(label: "hexfleet_pings_dropped_total",
                                                  dimensions: [("reason", DropReason.foreignDriver.label)], factory: f)
        badRecordMetric = CoreMetrics.Counter(label: "hexfleet_pings_dropped_total",
                                              dimensions: [("reason", DropReason.truncated.label)], factory: f)
    }

    /// Open driver connections.
    var connectionCount: Int { connections.count }

    /// Adds a handler for driver messages with an `op` other than `ping`.
    func onMessage(_ handler: @escaping (_ driver: DriverID, _ op: String, _ message: JSONValue) -> Bool) {
        messageHandlers.append(handler)
    }

    func registerWebSockets(_ server: HTTPServer) {
        // A frame limit of its own: wslay refuses a larger message with 1009 before buffering it.
        var driver = server.configuration.webSocket
        driver.maxMessageBytes = max(configuration.maxDriverTextBytes, configuration.maxDriverBinaryBytes)
        server.addWebSocketRoute("/v1/ws/driver", configuration: driver, accept: { [unowned self] in self.accept($0) },
                                 onOpen: { [unowned self] in self.open($0, $1) })
    }

    func tick(nowMs: Int64) {
        keepalive(nowMs: nowMs)
    }

    /// The driver a request speaks for: a driver token names itself; an admin names one with `?driver=ID`.
    func driverID(_ request: HTTPRequest) throws(APIError) -> UInt64 {
        guard let p = try auth.webSocketPrincipal(request) else {
            throw APIError(.unauthorized, "a driver token is required (?token= or Authorization: Bearer)")
        }
        let asked = request.query("driver")
        switch p.role {
        case .driver:
            guard let id = p.driverID else { throw APIError(.forbidden, "a driver token names a numeric id") }
            if let asked, UInt64(asked) != id.rawValue { throw APIError(.forbidden, "a driver may speak only for itself") }
            return id.rawValue
        case .admin:
            guard let asked, let id = UInt64(asked) else {
                throw APIError(.invalidParameter, "an admin names the driver with ?driver=ID")
            }
            return id
        default:
            throw APIError(.forbidden, "only drivers (or an admin with ?driver=) use the driver channel")
        }
    }

    /// Checks an upgrade.
    func accept(_ request: HTTPRequest) -> APIError? {
        do { _ = try driverID(request); return nil } catch { return error }
    }

    /// Sets up an accepted connection.
    func open(_ connection: WebSocketConnection, _ request: HTTPRequest) {
        guard let id = try? driverID(request) else {
            connection.close(code: 1008, reason: "unauthorized")
            return
        }
        if let old = connections[id] { old.close(code: 1000, reason: "replaced by a newer connection") }
        connections[id] = connection
        credentials[id] = try? Authenticator.webSocketToken(request)
        connection.onText = { [unowned self, unowned connection] text in self.text(text, driver: id, connection) }
        connection.onBinary = { [unowned self, unowned connection] bytes in self.binary(bytes, driver: id, connection) }
        connection.onClose = { [unowned self, unowned connection] _, _ in
            if self.connections[id] === connection {
                self.connections.removeValue(forKey: id)
                self.credentials.removeValue(forKey: id)
            }
            self.connectionsChanged()
        }
        connectionsChanged()
    }

    /// The token each open channel was opened with (`?token=` or `Authorization: Bearer`), so that a courier's answer
    /// given on the channel can be relayed to the shard holding the offer as the courier's own request.
    private var credentials: [UInt64: String] = [:]

    /// The token `driver`'s open channel was opened with, or nil.
    func credential(of driver: DriverID) -> String? { credentials[driver.rawValue] }

    /// Cluster mode: hands a message for a driver whose channel is not on this engine to the other shards, one of
    /// which may hold it (docs/cluster.md, "Offers pushed through any shard"); nil for one engine.
    var relayElsewhere: ((DriverID, [UInt8]) -> Void)?

    /// Sends a JSON message to a driver's open channel; false when it has none here (in a cluster it is then relayed
    /// to the other shards) or the send was refused.
    func push(_ driver: DriverID, _ json: [UInt8]) -> Bool {
        guard connections[driver.rawValue]?.isOpen == true else {
            relayElsewhere?(driver, json)
            return false
        }
        return pushHere(driver, json)
    }

    /// Sends a JSON message to a driver's channel on this engine only (a message another shard relayed here).
    func pushHere(_ driver: DriverID, _ json: [UInt8]) -> Bool {
        guard let c = connections[driver.rawValue], c.isOpen else { return false }
        if c.queuedBytes > configuration.hardBudgetBytes {
            metrics.wsEvictions.increment()
            c.close(code: configuration.evictionCloseCode, reason: "client too slow")
            return false
        }
        return c.send(textBytes: json)
    }

    /// Pings every driver once per `keepaliveMs`, a slot's share per tick, so quiet channels stay open and dead
    /// peers are found without a burst of pings stalling the loop.
    func keepalive(nowMs: Int64) {
        let slot = keepalives.next()
        for (driver, c) in connections where keepalives.slot(of: driver) == slot { c.ping() }
    }

    /// Closes every connection (engine stop).
    func stop() {
        for c in Array(connections.values) { c.close(code: 1001, reason: "server shutting down") }
    }

    private func text(_ text: String, driver: UInt64, _ connection: WebSocketConnection) {
        guard text.utf8.count <= configuration.maxDriverTextBytes else {
            connection.close(code: 1009, reason: "message too big")
            return
        }
        let message: JSONValue
        do { message = try JSONReader.parse(text) } catch {
            connection.send(textBytes: SocketErrorMessage.bytes(APIError(.invalidJSON, "not JSON: \(error)")))
            return
        }
        if let op = message["op"], op.string != "ping" {
            guard let name = op.string else {
                connection.send(textBytes: SocketErrorMessage.bytes(APIError(.unknownOp, "op is a string")))
                return
            }
            for handler in messageHandlers where handler(DriverID(driver), name, message) { return }
            connection.send(textBytes: SocketErrorMessage.bytes(APIError(.unknownOp, "unknown op \(name.prefix(32))")))
            return
        }
        do throws(APIError) {
            let r = try PingJSON.record(message, driver: DriverID(driver), nowMs: clock.nowMs)
            if let reason = ingest.ingest(r, transport: .ws) { throw PingJSON.apiError(reason) }
        } catch {
            connection.send(textBytes: SocketErrorMessage.bytes(error))
        }
    }

    private func binary(_ bytes: UnsafeRawBufferPointer, driver: UInt64, _ connection: WebSocketConnection) {
        guard bytes.count <= configuration.maxDriverBinaryBytes else {
            connection.close(code: 1009, reason: "message too big")
            return
        }
        guard !bytes.isEmpty, bytes.count % PingWire.recordBytes == 0 else {
            badRecordMetric.increment()
            connection.send(textBytes: SocketErrorMessage.bytes(
                APIError(.badRecord, "a binary frame holds whole 32-byte records, got \(bytes.count) bytes")))
            return
        }
        let n = bytes.count / PingWire.recordBytes
        var dropped = 0
        var first: APIError?
                for i in 0..<n {
            let r = PingWire.record(at: i * PingWire.recordBytes, in: bytes)
            let error: APIError?
            if r.driverID != driver {
                foreignDriverMetric.increment()
                error = APIError(.foreignDriver, "record \(i) names driver \(r.driverID), not this connection's")
            } else if let reason = ingest.ingest(r, transport: .ws) {
                error = PingJSON.apiError(reason)
            } else {
                error = nil
            }
            if let error {
                dropped += 1
                if first == nil { first = error }
            }
        }
        if let first {
            connection.send(textBytes: SocketErrorMessage.bytes(
                APIError(first.code, "\(dropped) of \(n) records dropped; first: \(first.message)")))
        }
    }
}

import EventLoop
import FleetIndex
import HTTPServer
import Logging
import Vocabulary

/// Pings in: the UDP listener (windows straight into `PingIngest`), `POST /v1/drivers/{id}/location`, the entry
/// the driver channel uses, and the per-tick sweep of stale drivers. Owns the ingest pipeline and the UDP socket;
/// the live table is shared with the services that read it. Loop-owned.
final class IngestService: EngineService {
    /// The pipeline every transport enters (range, skew and replay checks; listeners hear accepted records).
    let ingest: PingIngest
    private let table: DriverTable
    private let loop: Loop
    private let clock: EngineClock
    private let auth: Authenticator
    private let configuration: EngineConfiguration
    private let logger: Logger
    private var udp: UDPReceiver?
    /// Where the UDP listener is bound, once started.
    private(set) var udpAddress: SocketAddress?

    init(table: DriverTable, keys: PingKeys, loop: Loop, clock: EngineClock, auth: Authenticator,
         configuration: EngineConfiguration, logger: Logger) {
        self.table = table
        self.loop = loop
        self.clock = clock
        self.auth = auth
        self.configuration = configuration
        self.logger = logger
        ingest = PingIngest(table: table, keys: keys, keyCacheSize: configuration.udpKeyCacheEntries)
    }

    /// Counters for /metrics.
    var counters: IngestCounters { ingest.counters }

    /// Registers a listener for every window of accepted records (tracking, live speeds).
    func onAccepted(_ listener: @escaping (UnsafeBufferPointer<DriverState>, PingTransport) -> Void) {
        ingest.acceptedListeners.append(listener)
    }

    /// Registers a listener for accepted records with where each driver was before (`PingIngest.movedListeners`).
    func onMoved(_ listener: @escaping (UnsafeBufferPointer<DriverState>, UnsafeBufferPointer<PreviousFix>, PingTransport) -> Void) {
        ingest.movedListeners.append(listener)
    }

    /// Registers a listener for drivers the table takes for the first time (since start, or since eviction).
    func onFirstSighting(_ listener: @escaping (DriverID) -> Void) {
        ingest.insertedListeners.append(listener)
    }

    /// A single record from an authenticated transport (HTTP, the driver channel); nil when accepted.
    func ingest(_ record: PingRecord, transport: PingTransport) -> DropReason? {
        ingest.ingest(record, transport: transport, nowMs: clock.nowMs)
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.post, "/v1/drivers/{id}/location", postLocation)
    }

    func start() throws {
        let socket = try UDPReceiver(loop: loop, bindTo: SocketAddress(host: configuration.udpHost, port: configuration.udpPort),
                                     gro: configuration.udpGRO)
        udpAddress = try socket.localAddress()
        _ = try? socket.setReceiveBuffer(bytes: 8 << 20)
        let ingest = self.ingest, clock = self.clock
        try socket.startReceiving(windows: { window in ingest.ingestWindow(window, nowMs: clock.nowMs) })
        udp = socket
    }

    func tick(nowMs: Int64) {
        // Sweep a slice of the table per tick so a million drivers never stall the loop.
        table.evictStale(nowMs: nowMs, maxRows: 20_000)
    }

    func stop() {
        udp?.close()
    }

    /// `POST /v1/drivers/{id}/location`: the fallback ingest (admin, or the driver itself).
    func postLocation(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try DriverJSON.id(request)
        let caller = try auth.require(request, [.driver])
        guard caller.isAdmin || caller.driverID == id else { throw APIError(.forbidden, "a driver can move only itself") }
        let r = try PingJSON.record(try request.json(), driver: id, nowMs: clock.nowMs)
        if let reason = ingest(r, transport: .http) { throw PingJSON.apiError(reason) }
        // In a cluster the record may have gone to the shard that owns its place (docs/cluster.md).
        let s = table.state(of: id) ?? r.driverState
        responder.respond(.json(status: 202) { w in DriverJSON.write(&w, s) })
    }
}

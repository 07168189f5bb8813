import CoreMetrics
import EventLoop
import FleetIndex
import HTTPServer
import HexGeo
import Logging
import Prometheus
import Vocabulary

/// Region shards over NATS (docs/cluster.md): forwards checked pings to the shard owning their partition, takes
/// the pings other shards forward here, answers other shards' fleet queries from this table, and asks them for
/// this engine's (`FleetGatherer`). Owns the cluster bus and the ping router. Loop-owned.
final class ClusterService: EngineService, FleetGatherer {
    /// The shards' settings, from the engine configuration.
    let settings: ClusterConfiguration
    /// Who owns which partition.
    let directory: any PartitionDirectory
    /// The ping router the ingest pipeline consults.
    let forwarder: PingForwarder
    private let ingest: IngestService
    private let table: DriverTable
    private let loop: Loop
    private let clock: EngineClock
    private let logger: Logger
    private let servers: [String]
    private var bus: ClusterBus?
    private var lastSweepMs: Int64 = 0
    private var gathered: UInt64 = 0
    private var partialAnswers: UInt64 = 0
    private var exported = PingForwarder.Counters()
    private let metricForwarded: CoreMetrics.Counter
    private let metricForwardedMessages: CoreMetrics.Counter
    private let metricReceived: CoreMetrics.Counter
    private let metricHandedOff: CoreMetrics.Counter
    private let metricPartial: CoreMetrics.Counter
    private let metricPublishFailures: CoreMetrics.Counter
    private let auth: Authenticator

    private static let pingTag = 1
    private static let queryTag = 2
    private static let httpTag = 3
    private static let trackTag = 4
    private static let pushTag = 5
    /// How long a watching notice keeps this shard publishing its moved drivers (notices come every second).
    static let watchingTTLMs: Int64 = 3_000

    /// Whether this engine has tracking subscribers (the composition root wires it to the tracking hub).
    var hasTrackSubscribers: () -> Bool = { false }
    /// Hands the tracking hub the drivers that moved in another shard's table (the composition root wires it).
    var onRemotePositions: ([DriverState]) -> Void = { _ in }
    /// Until when (engine clock) some other engine watches: this shard publishes its moved drivers until then.
    private var watchedUntilMs: Int64 = 0
    /// The engines watching, each until its notice lapses: a new one gets this table's drivers once.
    private var watchers: [String: Int64] = [:]
    /// This table's drivers as a new watcher came, published a share per tick (`snapshotRecordsPerTick`).
    private var snapshotOwed: [DriverState] = []
    private var snapshotSent = 0
    /// Records of a new watcher's snapshot published per tick at most, so a big table never stalls the loop.
    static let snapshotRecordsPerTick = 16 * ClusterWire.maxPositionRecords
    private var lastWatchingSentMs: Int64 = 0
    private var wasWatching = false
    /// The positions message being collected for the next tick.
    private var trackBuffer: [UInt8] = []
    /// Positions published and received (records), and positions messages.
    private(set) var trackCounters: (published: UInt64, messages: UInt64, received: UInt64) = (0, 0, 0)
    /// How long an edge waits for the owner's answer to a relayed order write (it commits to the store first).
    static let relayTimeoutMs: UInt64 = 10_000

    /// Sends a message another shard relayed to a driver's channel here; false when the driver is not connected
    /// here (the composition root wires it to the driver channel).
    var onDriverPush: (DriverID, [UInt8]) -> Bool = { _, _ in false }
    /// Driver messages relayed to the other shards, heard from them, and sent on a channel here.
    private(set) var pushCounters: (relayed: UInt64, received: UInt64, delivered: UInt64) = (0, 0, 0)

    /// Where relayed order writes are answered: the engine's router, set when the engine listens.
    var router: Router?
    /// Order writes relayed to their owner, and relayed here, and relays that got no answer.
    private(set) var relayed: (sent: UInt64, received: UInt64, unanswered: UInt64) = (0, 0, 0)

    init(settings: ClusterConfiguration, directory: any PartitionDirectory, servers: [String], ingest: IngestService,
         table: DriverTable, auth: Authenticator, loop: Loop, clock: EngineClock, registry: PrometheusCollectorRegistry,
         logger: Logger) {
        self.auth = auth
        self.settings = settings
        self.directory = directory
        self.servers = servers
        self.ingest = ingest
        self.table = table
        self.loop = loop
        self.clock = clock
        self.logger = logger
        var send: ((String, UnsafeRawBufferPointer) -> Bool)?
        forwarder = PingForwarder(directory: directory, table: table, loop: loop, batchRecords: settings.forwardBatchRecords,
                                  flushMs: settings.forwardFlushMs, markRetentionMs: ingest.ingest.maxBehindMs + ingest.ingest.maxAheadMs,
                                  publish: { subject, bytes in send?(subject, bytes) ?? false })
        let f = PrometheusMetricsFactory(registry: registry)
        metricForwarded = CoreMetrics.Counter(label: "hexfleet_cluster_forwarded_records_total", factory: f)
        metricForwardedMessages = CoreMetrics.Counter(label: "hexfleet_cluster_forwarded_messages_total", factory: f)
        metricReceived = CoreMetrics.Counter(label: "hexfleet_cluster_received_records_total", factory: f)
        metricHandedOff = CoreMetrics.Counter(label: "hexfleet_cluster_handoffs_total", factory: f)
        metricPartial = CoreMetrics.Counter(label: "hexfleet_cluster_partial_answers_total", factory: f)
        metricPublishFailures = CoreMetrics.Counter(label: "hexfleet_cluster_publish_failures_total", factory: f)
        send = { [unowned self] subject, bytes in self.bus?.publish(subject, bytes) ?? false }
        ingest.ingest.router = forwarder
        ingest.onFirstSighting { [unowned forwarder] id in forwarder.tookNewDriver(id) }
        ingest.onAccepted { [unowned self] states, _ in self.collectMoved(states) }
    }

    func registerRoutes(_ routes: RouteTable) {
        routes.add(.get, "/v1/cluster", status)
    }

    func start() throws {
        let bus = try ClusterBus(servers: servers, name: directory.node, loop: loop, logger: logger)
        try bus.subscribe(ClusterWire.pingSubject(directory.node), tag: Self.pingTag) { [unowned self] m in self.received(ping: m) }
        try bus.subscribe(ClusterWire.querySubject(directory.node), tag: Self.queryTag) { [unowned self] m in self.received(query: m) }
        try bus.subscribe(ClusterWire.httpSubject(directory.node), tag: Self.httpTag) { [unowned self] m in self.received(http: m) }
        try bus.subscribe(ClusterWire.trackWildcard, tag: Self.trackTag) { [unowned self] m in self.received(track: m) }
        try bus.subscribe(ClusterWire.pushWildcard, tag: Self.pushTag) { [unowned self] m in self.received(push: m) }
        self.bus = bus
        logger.info("cluster shard", metadata: ["node": "\(directory.node)", "resolution": "\(directory.resolution)"])
    }

    func tick(nowMs: Int64) {
        // The marks are few (drivers that changed shards within the skew window); sweeping them costs a copy.
        if nowMs - lastSweepMs >= 10_000 {
            lastSweepMs = nowMs
            forwarder.sweep(nowMs: nowMs)
        }
        let c = forwarder.counters
        metricForwarded.increment(by: Int64(c.forwardedRecords &- exported.forwardedRecords))
        metricForwardedMessages.increment(by: Int64(c.forwardedMessages &- exported.forwardedMessages))
        metricReceived.increment(by: Int64(c.receivedTaken &- exported.receivedTaken))
        metricHandedOff.increment(by: Int64(c.handedOff &- exported.handedOff))
        metricPublishFailures.increment(by: Int64(c.publishFailures &- exported.publishFailures))
        exported = c
        publishTrack(nowMs: nowMs)
    }

    func stop() {
        forwarder.close()
        bus?.close()
        bus = nil
    }

    // MARK: pings and claims from other shards

    private func received(ping m: ClusterMessage) {
        if m.data.first == ClusterWire.claimsKind {
            guard let (node, claims) = ClusterWire.claims(m.data) else { forwarder.countMalformed(); return }
            forwarder.received(claims: claims, from: node)
            return
        }
        m.data.withUnsafeBytes { bytes in
            guard let (transport, records) = ClusterWire.records(bytes) else { forwarder.countMalformed(); return }
            let taken = ingest.ingest.ingestRelayed(records, transport: transport, nowMs: clock.nowMs)
            forwarder.countReceived(records: records.count / PingWire.recordBytes, taken: taken)
        }
    }

    // MARK: the live map across shards

    /// Collects the drivers this table took (local pings and forwarded ones alike) while another engine watches.
    private func collectMoved(_ states: UnsafeBufferPointer<DriverState>) {
        guard bus != nil, watchedUntilMs > clock.nowMs else { return }
        if trackBuffer.isEmpty { ClusterWire.beginPositions(&trackBuffer, from: directory.node) }
        for s in states {
            ClusterWire.appendPosition(s, to: &trackBuffer)
            if ClusterWire.positionCount(trackBuffer) >= ClusterWire.maxPositionRecords {
                flushTrack()
                ClusterWire.beginPositions(&trackBuffer, from: directory.node)
            }
        }
    }

    private func flushTrack() {
        let n = ClusterWire.positionCount(trackBuffer)
        guard n > 0, let bus else { trackBuffer.removeAll(keepingCapacity: true); return }
        ClusterWire.finishPositions(&trackBuffer)
        if trackBuffer.withUnsafeBytes({ bus.publish(ClusterWire.trackSubject(directory.node), $0) }) {
            trackCounters.published &+= UInt64(n)
            trackCounters.messages &+= 1
        }
        trackBuffer.removeAll(keepingCapacity: true)
    }

    /// Once per tick: this tick's moved drivers to the watchers, and a watching notice (at once when the first
    /// subscriber came, then every second) while this engine has subscribers.
    private func publishTrack(nowMs: Int64) {
        flushTrack()
        guard let bus else { return }
        if snapshotSent < snapshotOwed.count {
            let end = min(snapshotOwed.count, snapshotSent + Self.snapshotRecordsPerTick)
            ClusterWire.beginPositions(&trackBuffer, from: directory.node)
            for s in snapshotOwed[snapshotSent..<end] {
                ClusterWire.appendPosition(s, to: &trackBuffer)
                if ClusterWire.positionCount(trackBuffer) >= ClusterWire.maxPositionRecords {
                    flushTrack()
                    ClusterWire.beginPositions(&trackBuffer, from: directory.node)
                }
            }
            flushTrack()
            snapshotSent = end
            if end == snapshotOwed.count { snapshotOwed = []; snapshotSent = 0 }
        }
        let watching = hasTrackSubscribers()
        if watching && (!wasWatching || nowMs - lastWatchingSentMs >= 1_000) {
            lastWatchingSentMs = nowMs
            ClusterWire.watching(from: directory.node).withUnsafeBytes { _ = bus.publish(ClusterWire.trackSubject(directory.node), $0) }
        }
        wasWatching = watching
    }

    private func received(track m: ClusterMessage) {
        if m.data.first == ClusterWire.watchingKind {
            guard let node = ClusterWire.watching(m.data) else { forwarder.countMalformed(); return }
            let now = clock.nowMs
            if (watchers[node] ?? 0) <= now {
                // A new watcher knows nothing of this table's drivers that do not move: send them all, once.
                let freshAfter = now - table.staleAfterMs
                snapshotOwed = table.allStates().filter { $0.timestampMs >= freshAfter }
                snapshotSent = 0
            }
            watchers[node] = now + Self.watchingTTLMs
            watchedUntilMs = now + Self.watchingTTLMs
            if watchers.count > 64 { watchers = watchers.filter { $0.value > now } }
            return
        }
        guard let (_, states) = ClusterWire.positions(m.data) else { forwarder.countMalformed(); return }
        trackCounters.received &+= UInt64(states.count)
        onRemotePositions(states)
    }

    // MARK: driver messages through any shard

    /// Publishes a message for a driver not connected to this engine, once, for every other engine (one of them
    /// may hold its channel). Does nothing while no other shard is live.
    func relayDriverPush(_ driver: DriverID, _ json: [UInt8]) {
        guard let bus, directory.liveNodes.count > 1, json.count <= ClusterWire.maxDriverPushBytes else { return }
        if ClusterWire.driverPush(driver, json).withUnsafeBytes({ bus.publish(ClusterWire.pushSubject(directory.node), $0) }) {
            pushCounters.relayed &+= 1
        }
    }

    private func received(push m: ClusterMessage) {
        guard let (driver, json) = ClusterWire.driverPush(m.data) else { forwarder.countMalformed(); return }
        pushCounters.received &+= 1
        if onDriverPush(driver, json) { pushCounters.delivered &+= 1 }
    }

    // MARK: order writes relayed to the partition's owner

    /// Sends an order write whose pick-up lies in a partition another live shard owns to that shard, and answers
    /// `responder` with the owner's response (503 `owner_unreachable` when none comes in time). False, and nothing
    /// sent, when this shard owns the partition, nobody does, there is no bus, or the request was relayed here
    /// already (one hop only: views of the owner map may briefly differ).
    func relayOrderWrite(pickup: LatLng, _ request: HTTPRequest, _ responder: Responder) -> Bool {
        guard let bus, request.header(Self.relayedHeader) == nil,
              let partition = try? H3.latLngToCell(pickup, resolution: directory.resolution),
              let owner = directory.owner(of: partition), owner != directory.node,
              request.body.count <= ClusterWire.maxRelayedBytes else { return false }
        relayed.sent &+= 1
        bus.request(ClusterWire.httpSubject(owner), ClusterWire.encode(request, from: directory.node),
                    timeoutMs: Self.relayTimeoutMs) { [unowned self] reply in
            if case let .answer(bytes) = reply, let response = ClusterWire.httpResponse(bytes) {
                responder.respond(response)
            } else {
                self.relayed.unanswered &+= 1
                responder.fail(APIError(Self.ownerUnreachable,
                                        "the shard owning this order's partition (\(owner)) did not answer; retry with the same Idempotency-Key"))
            }
        }
        return true
    }

    /// Asks every other live shard the same request (relayed, one hop) and hands `completion`, on the loop, the
    /// answers that came within the query timeout (`--cluster-query-timeout-ms`). False, and nothing sent, without a
    /// bus or another live shard, or for a request relayed here already.
    func askOtherShards(_ request: HTTPRequest, completion: @escaping ([HTTPResponse]) -> Void) -> Bool {
        let others = directory.liveNodes.filter { $0 != directory.node }
        guard let bus, !others.isEmpty, request.header(Self.relayedHeader) == nil,
              request.body.count <= ClusterWire.maxRelayedBytes else { return false }
        let encoded = ClusterWire.encode(request, from: directory.node)
        var answers: [HTTPResponse] = []
        var waiting = others.count
        for node in others {
            bus.request(ClusterWire.httpSubject(node), encoded, timeoutMs: settings.queryTimeoutMs) { reply in
                if case let .answer(bytes) = reply, let response = ClusterWire.httpResponse(bytes) { answers.append(response) }
                waiting -= 1
                if waiting == 0 { completion(answers) }
            }
        }
        return true
    }

    /// 503: a relayed order write got no answer from the partition's owner in time.
    static let ownerUnreachable = APIError.Code("owner_unreachable", 503)

    /// Header a relayed request carries on the owner: the edge's node name.
    static let relayedHeader = "x-hexfleet-relayed-from"

    private func received(http m: ClusterMessage) {
        guard let reply = m.reply, let router, let (from, parsed) = ClusterWire.httpRequest(m.data) else {
            forwarder.countMalformed()
            return
        }
        relayed.received &+= 1
        var request = parsed
        request.headers.append((Self.relayedHeader, from))
        let answer: (HTTPResponse) -> Void = { [weak self] response in
            ClusterWire.encode(response).withUnsafeBytes { _ = self?.bus?.publish(reply, $0) }
        }
        router.dispatch(request, rawPath: HTTPRequest.splitTarget(request.target).path, Responder(sink: answer))
    }

    // MARK: scatter-gather

    private func received(query m: ClusterMessage) {
        guard let reply = m.reply, let query = ClusterWire.query(m.data) else { forwarder.countMalformed(); return }
        let answer = ClusterWire.encode(query.answer(from: table, nowMs: clock.nowMs))
        answer.withUnsafeBytes { _ = bus?.publish(reply, $0) }
    }

    var gathers: Bool { bus != nil && directory.liveNodes.count > 1 }

    func gather(_ query: FleetQuery, local: FleetAnswer, completion: @escaping (FleetAnswer, _ missing: [String]) -> Void) {
        let others = directory.liveNodes.filter { $0 != directory.node }
        var answers: [FleetAnswer] = [local.map { var d = $0; d.node = directory.node; return d }]
        var missing: [String] = []
        var waiting = others.count
        gathered &+= 1
        guard let bus, waiting > 0 else { completion(query.merge(answers), []); return }
        let request = ClusterWire.encode(query)
        for node in others {
            bus.request(ClusterWire.querySubject(node), request, timeoutMs: settings.queryTimeoutMs) { [unowned self] reply in
                if case let .answer(bytes) = reply, let answer = ClusterWire.answer(bytes) {
                    answers.append(answer.map { var d = $0; d.node = node; return d })
                } else {
                    missing.append(node)
                }
                waiting -= 1
                guard waiting == 0 else { return }
                if !missing.isEmpty {
                    self.partialAnswers &+= 1
                    self.metricPartial.increment()
                }
                completion(query.merge(answers), missing.sorted())
            }
        }
    }

    // MARK: status

    /// `GET /v1/cluster` (admin or dispatcher): this shard's view of the cluster and its forwarding counters.
    private func status(_ request: HTTPRequest, _ responder: Responder) throws {
        _ = try auth.require(request, [.dispatcher])
        let c = forwarder.counters
        responder.respond(.json { w in
            w.beginObject()
            w.key("node"); w.string(directory.node)
            w.key("partition_resolution"); w.number(directory.resolution)
            w.key("live_nodes"); w.beginArray()
            for n in directory.liveNodes { w.string(n) }
            w.endArray()
            w.key("connected"); w.bool(bus?.isConnected ?? false)
            w.key("drivers_held"); w.number(table.count)
            w.key("forwarded_records"); w.number(c.forwardedRecords)
            w.key("forwarded_messages"); w.number(c.forwardedMessages)
            w.key("received_records"); w.number(c.receivedRecords)
            w.key("received_taken"); w.number(c.receivedTaken)
            w.key("claims_sent"); w.number(c.claimsSent)
            w.key("claims_received"); w.number(c.claimsReceived)
            w.key("handoffs"); w.number(c.handedOff)
            w.key("handoff_marks"); w.number(forwarder.handOffMarkCount)
            w.key("malformed_messages"); w.number(c.malformed)
            w.key("publish_failures"); w.number(c.publishFailures)
            w.key("gathered_queries"); w.number(gathered)
            w.key("relayed_order_writes"); w.number(relayed.sent)
            w.key("order_writes_relayed_here"); w.number(relayed.received)
            w.key("relays_unanswered"); w.number(relayed.unanswered)
            w.key("partial_answers"); w.number(partialAnswers)
            w.key("track_published"); w.number(trackCounters.published)
            w.key("track_messages"); w.number(trackCounters.messages)
            w.key("track_received"); w.number(trackCounters.received)
            w.key("track_watched"); w.bool(watchedUntilMs > clock.nowMs)
            w.key("driver_pushes_relayed"); w.number(pushCounters.relayed)
            w.key("driver_pushes_received"); w.number(pushCounters.received)
            w.key("driver_pushes_delivered"); w.number(pushCounters.delivered)
            w.endObject()
        })
    }
}

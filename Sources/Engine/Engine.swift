import EventLoop
import FleetIndex
import Foundation
import HexGeo
import HTTPServer
import Logging
import Storage

/// The composition root: makes the loop-side services in one visible order, wires the few ways they talk, binds
/// the listeners, drives the tick, and stops the services in reverse order (docs/architecture.md). It holds the
/// services and nothing else; each owns its state. Loop-owned and deliberately not `Sendable`: everything here
/// runs on the loop thread, so nothing on the hot path takes a lock.
public final class Engine {
    public let loop: Loop
    public let configuration: EngineConfiguration
    let logger: Logger
    let clock: EngineClock
    let workers: WorkQueue
    let metrics: EngineMetrics
    let auth: Authenticator
    /// Prepared signing keys for UDP pings (drivers' keys are handed out with their tokens).
    public let keys: PingKeys
    /// The live fleet table: written by ingest, read by fleet queries, dispatch, tracking and surge.
    public let table: DriverTable
    let ingest: IngestService
    let cluster: ClusterService?
    let fleet: FleetQueryService
    let routing: RoutingService
    let drivers: DriverChannel
    let dispatch: DispatchService
    let orders: OrdersService
    let tracking: TrackingHub
    let history: HistoryService?
    let fences: FenceService
    let demo: DemoService?
    let site: SiteService
    let events: EventRelayService?
    /// Cluster mode (`--node`): who owns each partition, read on the loop (docs/cluster.md); nil for one engine.
    let partitions: LeasedPartitionDirectory?
    let shards: ShardService?
    let limits: LimitsService
    let metricsService: MetricsService
    /// Every service in start order; stopped in reverse.
    private let services: [any EngineService]
    public private(set) var http: HTTPServer?
    private var tickTimer: EventLoop.Timer?
    private var ticks: UInt64 = 0
    private var started = false
    public private(set) var isStopped = false

    /// Builds the engine on `loop` (the calling thread must be the loop's thread): loads the road network, opens
    /// the store and reloads live orders. Nothing is bound until `start`.
    public init(configuration: EngineConfiguration, loop: Loop, logger: Logger = Logger(label: "hexfleet.engine")) throws {
        loop.assertOnLoop()
        if let directory = configuration.dataDirectory { try DataDirectory.prepare(directory) }
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        clock = EngineClock(loop: loop)
        workers = WorkQueue(loop: loop)
        metrics = EngineMetrics()
        keys = PingKeys(secret: configuration.udpSecret)
        auth = Authenticator(authority: TokenAuthority(secret: configuration.tokenSecret, adminToken: configuration.adminToken),
                             platform: try PlatformTokenVerifier.loading(configuration.jwt),
                             keys: keys, clock: clock)
        table = DriverTable(scheme: H3CellScheme(resolution: configuration.indexResolution),
                            staleAfterMs: configuration.staleAfterMs)
        ingest = IngestService(table: table, keys: keys, loop: loop, clock: clock, auth: auth,
                               configuration: configuration, logger: logger)
        // Cluster mode: leases in PostgreSQL decide who owns each partition; without PostgreSQL (only a configuration
        // made by hand: the CLI refuses --node without --postgres) a fixed spread does.
        let leaseKeeper = configuration.postgresURL == nil ? nil
            : try configuration.cluster.node.map { try LeaseKeeper(configuration: configuration, node: $0, logger: logger) }
        partitions = leaseKeeper.map { LeasedPartitionDirectory(node: $0.node, resolution: $0.resolution) }
        if case let shard = configuration.cluster, let node = shard.node, !configuration.natsServers.isEmpty {
            let directory: any PartitionDirectory = partitions ?? StaticPartitionDirectory(
                node: node, resolution: shard.partitionResolution,
                owners: Dictionary(uniqueKeysWithValues: shard.staticOwners.map { (H3Cell(rawValue: $0.key), $0.value) }),
                spreadNodes: shard.staticNodes)
            cluster = ClusterService(settings: shard, directory: directory, servers: configuration.natsServers, ingest: ingest,
                                     table: table, auth: auth, loop: loop, clock: clock, registry: metrics.registry, logger: logger)
        } else {
            cluster = nil
        }
        fleet = FleetQueryService(table: table, auth: auth, clock: clock, gatherer: cluster)
        routing = try RoutingService(configuration: configuration, ingest: ingest, auth: auth, workers: workers, logger: logger)
        drivers = DriverChannel(configuration: configuration.tracking, tickMs: configuration.trackTickMs, ingest: ingest,
                                auth: auth, metrics: metrics, clock: clock)
        dispatch = try DispatchService(configuration: configuration, table: table, roads: routing.roads, drivers: drivers,
                                       auth: auth, workers: workers, clock: clock, logger: logger, profileRoads: routing.profiles)
        orders = try OrdersService.open(configuration: configuration, dispatch: dispatch, drivers: drivers, auth: auth,
                                        roads: routing.roads, table: table, loop: loop, workers: workers, clock: clock,
                                        metrics: metrics, logger: logger, profileRoads: routing.profiles, fence: leaseKeeper)
        if let cluster {
            orders.relayToOwner = { [unowned cluster] in cluster.relayOrderWrite(pickup: $0, $1, $2) }
            dispatch.atOrderOwner = { [unowned orders] in try orders.atOrderOwner($0, $1, $2, $3) }
            dispatch.askOtherShards = { [unowned cluster] in cluster.askOtherShards($0, completion: $1) }
            drivers.relayElsewhere = { [unowned cluster] in cluster.relayDriverPush($0, $1) }
            cluster.onDriverPush = { [unowned drivers] in drivers.pushHere($0, $1) }
            if let store = orders.store as? any PartitionedOrderStore {
                dispatch.cluster = DispatchCluster(directory: cluster.directory, gatherer: cluster,
                                                   slotOrders: { [store] ids throws(StorageError) in try store.slotOrders(of: ids) })
            }
        }
        tracking = TrackingHub(configuration: configuration.tracking, tickMs: configuration.trackTickMs,
                               publicTracking: configuration.demo, table: table, ingest: ingest, orders: orders, auth: auth,
                               metrics: metrics, clock: clock, loop: loop)
        orders.onWatcherEvent { [unowned tracking] order, json in tracking.push(order: order.rawValue, json) }
        if let cluster {
            cluster.hasTrackSubscribers = { [unowned tracking] in tracking.connectionCount > 0 }
            cluster.onRemotePositions = { [unowned tracking] in tracking.noteRemote($0) }
        }
        fences = try FenceService(table: table, ingest: ingest, auth: auth, clock: clock, metrics: metrics, loop: loop,
                                  store: orders.store, webhooks: orders.webhooks, notifier: orders.notifier, arrivals: orders,
                                  driveTime: routing.roads, tracking: configuration.tracking,
                                  watch: OrderWatchSettings(configuration), logger: logger, storedFences: orders.takeStartupFences(),
                                  nextPlannedStop: { [unowned dispatch] courier in
                                      dispatch.plannedStops(of: courier).first.map { ($0.order, $0.kind == .pickup ? .pickup : .dropoff) }
                                  }, threaded: configuration.fenceThread)
        if configuration.history {
            var settings = HistoryService.Settings()
            settings.retentionMs = Int64(configuration.historyRetentionDays) * 86_400_000
            history = try HistoryService(directory: orders.dataDirectory + "/history", settings: settings, ingest: ingest,
                                         orderLeg: { [unowned orders] order, caller, done in
                                             orders.leg(of: order, for: caller, done)
                                         }, auth: auth, loop: loop, clock: clock, metrics: metrics, logger: logger)
        } else {
            history = nil
        }
        if configuration.demo, configuration.demoDrivers > 0, let roads = routing.roads {
            demo = DemoService(configuration: configuration, roads: roads, ingest: ingest, dispatch: dispatch, orders: orders,
                               keys: keys, loop: loop, clock: clock, logger: logger)
        } else {
            demo = nil
        }
        if !configuration.natsServers.isEmpty, let outbox = orders.store as? any OutboxStore {
            let webhooks = orders.webhooks.flatMap { configuration.webhookURLs.isEmpty ? nil : ($0, configuration.webhookURLs) }
            let relay = EventRelayService(settings: EventRelay.Settings(servers: configuration.natsServers), store: outbox,
                                          webhooks: webhooks, registry: metrics.registry, logger: logger)
            dispatch.onOfferEvent { [unowned relay] event in relay.offerEvent(event) }
            fences.onEvent = { [unowned relay] event in relay.fenceEvent(event) }
            events = relay
        } else {
            events = nil
        }
        if let leaseKeeper, let partitions, let store = orders.store as? any PartitionedOrderStore {
            shards = ShardService(keeper: leaseKeeper, directory: partitions, table: table, orders: orders, store: store,
                                  workers: workers, loop: loop, registry: metrics.registry, logger: logger)
        } else {
            shards = nil
        }
        site = SiteService()
        limits = LimitsService(configuration: configuration, loop: loop, registry: metrics.registry)
        metricsService = MetricsService(metrics: metrics, loop: loop, table: table, ingest: ingest)
        let census: () -> Void = { [unowned metrics, unowned tracking, unowned drivers] in
            metrics.wsConnections.record(tracking.connectionCount + drivers.connectionCount)
        }
        tracking.connectionsChanged = census
        drivers.connectionsChanged = census
        if routing.roads == nil && !configuration.straightLineETA {
            logger.warning("no road graph and straight-line ETAs off: orders wait for a courier until a graph is configured")
        }
        // The tick's order: ingest sweeps stale drivers first, metrics flush last.
        var services: [any EngineService] = [auth, ingest]
        if let cluster { services.append(cluster) }
        services += [fleet, routing, drivers, dispatch, orders, tracking, fences]
        if let history { services.append(history) }
        if let shards { services.append(shards) }
        if let demo { services.append(demo) }
        if let events { services.append(events) }
        services += [site, limits, metricsService]
        self.services = services
    }

    /// Unix time in milliseconds, from the loop's cached clock (one read per loop iteration).
    public var nowMs: Int64 { clock.nowMs }
    /// Where the HTTP listener is bound, once started.
    public private(set) var httpAddress: SocketAddress?
    /// Where the UDP listener is bound, once started.
    public var udpAddress: SocketAddress? { ingest.udpAddress }

    /// Binds the listeners, then starts each service and the tick.
    public func start() throws {
        loop.assertOnLoop()
        guard !started else { return }
        started = true
        // A write to a socket whose peer is gone must fail with EPIPE, not kill the process: libuv leaves SIGPIPE
        // alone, and a subscriber that disconnects with unread data is routine for a fan-out server.
        signal(SIGPIPE, SIG_IGN)
        let routes = RouteTable(metrics: metrics, rateLimiter: limits.rateLimiter, loop: loop)
        for service in services { service.registerRoutes(routes) }
        cluster?.router = routes.router
        var httpConfiguration = HTTPServerConfiguration()
        limits.apply(to: &httpConfiguration)
        let server = HTTPServer(loop: loop, configuration: httpConfiguration, router: routes.router)
        for service in services { service.registerWebSockets(server) }
        if configuration.webSocketEcho { server.addWebSocketEchoRoute("/v1/ws/echo") }
        httpAddress = try server.listen(host: configuration.httpHost, port: configuration.httpPort)
        http = server
        for service in services { try service.start() }
        let timer = try EventLoop.Timer(loop: loop)
        try timer.start(afterMs: configuration.trackTickMs, repeatMs: configuration.trackTickMs) { [unowned self] in
            self.tick()
        }
        tickTimer = timer
        logger.info("engine listening", metadata: ["http": "\(httpAddress!)", "udp": "\(udpAddress.map { "\($0)" } ?? "-")"])
    }

    private func tick() {
        ticks &+= 1
        if ticks % 50 == 0 { clock.sync() }
        let now = clock.nowMs
        for service in services { service.tick(nowMs: now) }
    }

    /// Stops the tick and every service (reverse start order) and closes the HTTP listener; the loop then runs to
    /// empty.
    public func stop() {
        guard !isStopped else { return }
        isStopped = true
        tickTimer?.close()
        for service in services.reversed() { service.stop() }
        http?.close()
        logger.info("engine stopped")
    }
}

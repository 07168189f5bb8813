import Dispatcher
import Routing

/// Everything `hexfleet serve` can set; defaults are the embedded demo configuration.
public struct EngineConfiguration: Sendable {
    /// HTTP and WebSocket listener.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// UDP ping listener.
    public var udpHost = "127.0.0.1"
    public var udpPort = 9090
    /// Let the kernel hand trains of same-size datagrams from one sender over as one buffer (UDP GRO, Linux ≥ 5.0):
    /// a gateway or simulator sending with segmentation offload costs the receive path one copy per train.
    public var udpGRO = true
    /// Prepared signing keys cached (72 B each, allocated at start; rounded up to a power of two). A miss costs four
    /// SHA-256 compressions, so a fleet much larger than the cache pays them on most pings: with 1M drivers a
    /// 2^20-entry cache (72 MB) took single-datagram ingest from a median 0.84 to 0.99 of a bare receive loop.
    public var udpKeyCacheEntries = 1 << 16
    /// Directory for the SQLite store and caches; nil keeps everything in a temporary directory.
    public var dataDirectory: String?
    /// A saved road graph or an OSM PBF to route on; nil uses the embedded fixture when `demo` is on.
    public var graphPath: String?
    /// Graphs of the other profiles (`--graph bicycle=FILE`); with `demo` and none given, the fixture is imported
    /// for bicycles too.
    public var profileGraphPaths: [RoutingProfile: String] = [:]
    /// Run the demo fleet so the live map moves at once.
    public var demo = true
    /// Drivers in the demo fleet.
    public var demoDrivers = 200
    /// Secret for UDP signing keys (raw bytes).
    public var udpSecret: [UInt8]
    /// Secret for bearer tokens (raw bytes).
    public var tokenSecret: [UInt8]
    /// A static admin token, if configured.
    public var adminToken: String?
    /// The platform's own JWTs, accepted beside the engine's tokens (off without keys).
    public var jwt = JWTConfiguration()
    /// Serve `/v1/ws/echo` for conformance suites.
    public var webSocketEcho = false
    /// H3 resolution of the live index buckets.
    public var indexResolution = 9
    /// Drivers not heard from for this long leave results and are evicted.
    public var staleAfterMs: Int64 = 120_000
    /// Decide fence checks on a thread of their own behind ingest (docs/fences.md); false: on the loop, inline.
    public var fenceThread = true
    /// A courier within this distance of its order's pick-up (drop-off) has arrived there (`arrived_pickup`).
    public var arrivalRadiusMeters: Double = 60
    /// When > 0, arrival is within this many seconds of driving from the place instead (needs a road graph).
    public var arrivalDriveTimeSeconds: Double = 0
    /// A courier farther than this from its planned route is away from it.
    public var offRouteMeters: Double = 150
    /// Away from the planned route this long is an `off_route` order event; 0: route deviation off.
    public var offRouteSeconds = 60
    /// Tick of the tracking hub (coalescing window).
    public var trackTickMs: UInt64 = 100
    /// Connections, request rates, the header timeout and live orders per customer (docs/limits.md).
    public var limits = LimitsConfiguration()
    /// Limits, budgets and keepalives of the WebSocket driver channel and tracking hub.
    public var tracking = TrackingConfiguration()

    /// Dispatch policy: batch-optimal assignment or greedy nearest courier.
    public var dispatchPolicy: DispatchPolicy = .batchOptimal
    /// A dispatch round runs this often…
    public var dispatchIntervalMs: Int64 = 2_000
    /// …or as soon as this many orders wait.
    public var dispatchBatchSize = 200
    /// An offer not answered within this is withdrawn and the order re-dispatched.
    public var offerTimeoutMs: Int64 = 15_000
    /// Stack orders onto couriers' routes (capacity per vehicle, ready times, deadlines, forward dispatch;
    /// docs/dispatch.md); off: one order per idle courier, as before.
    public var dispatchStacking = true
    /// Stacking rounds hold an order until its food is at most this many seconds from ready (docs/dispatch.md).
    public var dispatchHoldLeadSeconds: Double = 600
    /// Stacking rounds price a second of delivery delay as this many seconds of added travel (0: travel only).
    public var dispatchDelayWeight: Double = 0.8
    /// Use straight-line pickup ETAs instead of road ETAs (explicit opt-in; also the only way to dispatch
    /// without a road graph).
    public var straightLineETA = false

    /// Webhook endpoints for notifications, `http://` URLs only (the transport has no TLS): the engine refuses any
    /// other at start, naming it, rather than fail every delivery. None by default.
    public var webhookURLs: [String] = []
    /// The webhooks' signing secret (raw bytes); never logged.
    public var webhookSecret: [UInt8]?
    /// NATS servers (`nats://host:port`); when set, order events go through the store's outbox to JetStream
    /// (docs/events.md). None by default.
    public var natsServers: [String] = []
    /// Region shards (docs/cluster.md): this engine is one of a cluster when it has a node name and `natsServers`.
    public var cluster = ClusterConfiguration()
    /// One transaction per group of order writes (the default) rather than one per write (the benchmark's baseline).
    public var storeGroupCommit = true
    /// SQLite's `synchronous=FULL` (the default) rather than `NORMAL`; see docs/storage.md.
    public var storeSynchronousFull = true
    /// A libpq URL: orders and the rest of the store live in PostgreSQL there (`PostgresStore`) instead of SQLite
    /// in the data directory. Holds credentials; never logged.
    public var postgresURL: String?
    /// Keep every accepted ping in the on-disk position history (`<data>/history`).
    public var history = true
    /// Days of position history kept; older hours are deleted.
    public var historyRetentionDays = 7

    /// A configuration with the given secrets and every other value at its default.
    public init(udpSecret: [UInt8], tokenSecret: [UInt8]) {
        self.udpSecret = udpSecret
        self.tokenSecret = tokenSecret
    }
}

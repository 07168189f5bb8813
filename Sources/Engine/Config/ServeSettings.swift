import Foundation
import Logging

/// Every setting of `hexfleet serve`, one line each: config-file key, flag, default, meaning, and where the parsed
/// value goes. The environment variable is derived from the key (`ServeSetting.environmentVariable`). Adding a
/// setting is a line here (plus its flag in `ServeCommand` and its row in docs/configuration.md, which a test checks).
public enum ServeSettings {
    public static let all: [ServeSetting] = [
        .scalar("http", "--http", "127.0.0.1:8080", "HTTP and WebSocket listener, HOST:PORT") { c, v in (c.engine.httpHost, c.engine.httpPort) = try v.hostPort() },
        .scalar("udp", "--udp", "127.0.0.1:9090", "UDP ping listener, HOST:PORT") { c, v in (c.engine.udpHost, c.engine.udpPort) = try v.hostPort() },
        .scalar("udp_gro", "--udp-gro", "true", "Receive trains of same-size UDP datagrams as one buffer (UDP GRO)") { c, v in c.engine.udpGRO = try v.bool() },
        .scalar("udp_key_cache", "--udp-key-cache", "65536", "Signing keys cached for UDP tag checks (72 B each); near the fleet size for fleets over 100,000") { c, v in c.engine.udpKeyCacheEntries = try v.int(1...(1 << 24)) },
        .scalar("data", "--data", nil, note: "a temporary directory, removed at stop", "Directory for the order store, the graph cache and generated secrets; made with its parents") { c, v in c.engine.dataDirectory = try v.text() },
        .list("graph", "--graph", note: "the Monaco fixture (car and bicycle) with --demo, else none", "Road graphs: a saved graph file or an .osm.pbf extract, PROFILE=FILE per profile (car, bicycle, foot, scooter; repeat the flag); a bare FILE is the car graph") { c, v in (c.engine.graphPath, c.engine.profileGraphPaths) = try v.profileGraphs() },
        .scalar("demo", "--demo", "false", "Run a simulated demo fleet on the fixture city") { c, v in c.engine.demo = try v.bool() },
        .scalar("demo_drivers", "--demo-drivers", "200", "Drivers in the demo fleet") { c, v in c.engine.demoDrivers = try v.int(0...100_000) },
        .scalar("udp_secret", "--udp-secret", nil, note: "generated, kept in DATA/secrets", secret: true, "UDP signing secret, hex of at least 16 bytes") { c, v in c.udpSecret = try v.hexSecret() },
        .scalar("token_secret", "--token-secret", nil, note: "generated, kept in DATA/secrets", secret: true, "Bearer-token signing secret, hex of at least 16 bytes") { c, v in c.tokenSecret = try v.hexSecret() },
        .scalar("admin_token", "--admin-token", nil, note: "none; with --demo generated, printed and kept in DATA/secrets", secret: true, "Static admin bearer token") { c, v in c.engine.adminToken = try v.text() },
        .scalar("ws_echo", "--ws-echo", "false", "Serve /v1/ws/echo for WebSocket conformance suites") { c, v in c.engine.webSocketEcho = try v.bool() },
        .scalar("index_resolution", "--index-resolution", "9", "H3 resolution of the live index (0…15)") { c, v in c.engine.indexResolution = try v.int(0...15) },
        .scalar("stale_after", "--stale-after", "120", "Seconds without a ping before a driver is stale") { c, v in c.engine.staleAfterMs = Int64(try v.int(1...31_536_000)) * 1000 },
        .scalar("track_tick_ms", "--track-tick-ms", "100", "Tracking tick in milliseconds: how often subscribers get coalesced positions (10…1000)") { c, v in c.engine.trackTickMs = UInt64(try v.int(10...1_000)) },
        .scalar("track_interval_ms", "--track-interval-ms", nil, note: "the tracking tick", "Shortest time between two tracking fan-outs in ms (1…1000): a fix reaches subscribers at once when the hub is idle, else within this time, coalesced") { c, v in c.engine.tracking.fanoutIntervalMs = UInt64(try v.int(1...1_000)) },
        .scalar("log_level", "--log-level", "info", "Log level: trace, debug, info, notice, warning, error, critical") { c, v in c.logLevel = Logger.Level(rawValue: try v.choice(logLevels)) ?? .info },
        .list("webhook.urls", "--webhook-url", [], "Webhook endpoints for notifications, http:// URLs (repeat the flag; comma-separated in the environment)") { c, v in c.engine.webhookURLs = v.items },
        .scalar("webhook.secret", "--webhook-secret", nil, secret: true, "Webhooks' signing secret: hex, or raw text") { c, v in let t = try v.text(); c.engine.webhookSecret = Hex.decode(t) ?? Array(t.utf8) },
        .list("nats", "--nats", [], "NATS servers, nats://HOST:PORT, comma-separated or the flag repeated: order events go through an outbox to the JetStream stream HEXFLEET_EVENTS (docs/events.md)") { c, v in c.engine.natsServers = try natsServers(v) },
        .scalar("cluster.query_timeout_ms", "--cluster-query-timeout-ms", "500", "Milliseconds a fleet query waits for the other shards before answering with what came (10…60000)") { c, v in c.engine.cluster.queryTimeoutMs = UInt64(try v.int(10...60_000)) },
        .scalar("store.group_commit", "--store-group-commit", "true", "One SQLite transaction per group of order writes (off: one per write, the benchmark's baseline)") { c, v in c.engine.storeGroupCommit = try v.bool() },
        .scalar("store.synchronous", "--store-synchronous", "full", "SQLite synchronous mode: full, or normal (fewer fsyncs, not power-loss durable)") { c, v in c.engine.storeSynchronousFull = try v.choice(["full", "normal"]) == "full" },
        .scalar("postgres", "--postgres", nil, note: "SQLite in the data directory", secret: true, "Keep orders, ratings, webhooks and the event log in PostgreSQL at this libpq URL (postgresql://user:password@host:port/db; several hosts with target_session_attrs=read-write fail over)") { c, v in c.engine.postgresURL = try v.text() },
        .scalar("node", "--node", nil, note: "none: one engine, no shards", "This engine's node name in a cluster of region shards (1–64 letters, digits, '_', '-': it becomes a NATS subject token); cluster mode needs --postgres and --nats (docs/cluster.md)") { c, v in c.engine.cluster.node = try nodeName(v) },
        .scalar("partition_resolution", "--partition-resolution", "3", "H3 resolution of the cluster's region partitions (0…15): a driver's partition is its cell's parent there (docs/cluster.md)") { c, v in c.engine.cluster.partitionResolution = try v.int(0...15) },
        .scalar("dispatch_stacking", "--dispatch-stacking", "true", "Stack orders onto couriers' planned routes (capacity, ready times, deadlines; forward dispatch, docs/dispatch.md); off: one order per idle courier") { c, v in c.engine.dispatchStacking = try v.bool() },
        .scalar("dispatch_hold_lead_s", "--dispatch-hold-lead-s", "600", "Stacking rounds hold an order until its food is at most this many seconds from ready, so orders of one restaurant meet in a round (0…86400; 86400: never hold an order ready within a day)") { c, v in c.engine.dispatchHoldLeadSeconds = Double(try v.int(0...86_400)) },
        .scalar("dispatch_delay_weight", "--dispatch-delay-weight", "0.8", "Stacking rounds price a second of delivery delay an insertion causes as this many seconds of added travel (0…10; 0: travel only)") { c, v in c.engine.dispatchDelayWeight = try v.double(0...10) },
        .scalar("history", "--history", "true", "Keep every accepted ping in the position history (DATA/history)") { c, v in c.engine.history = try v.bool() },
        .scalar("history_retention_days", "--history-retention-days", "7", "Days of position history kept (1…3650)") { c, v in c.engine.historyRetentionDays = try v.int(1...3_650) },
        .scalar("fence_thread", "--fence-thread", "true", "Decide fence checks on a thread of their own behind ingest (a second core); false: on the event loop") { c, v in c.engine.fenceThread = try v.bool() },
        .scalar("arrival_radius_m", "--arrival-radius-m", "60", "A courier within this many meters of its order's pick-up or drop-off has arrived there (1…5000)") { c, v in c.engine.arrivalRadiusMeters = Double(try v.int(1...5_000)) },
        .scalar("arrival_drive_time_s", "--arrival-drive-time-s", "0", "Arrival by drive time instead: within this many seconds of driving from the place (1…600); 0: by the radius") { c, v in c.engine.arrivalDriveTimeSeconds = Double(try v.int(0...600)) },
        .scalar("off_route_m", "--off-route-m", "150", "A courier farther than this many meters from its planned route is away from it (20…10000)") { c, v in c.engine.offRouteMeters = Double(try v.int(20...10_000)) },
        .scalar("off_route_s", "--off-route-s", "60", "Away from the planned route this many seconds is an off_route order event (1…3600); 0: off") { c, v in c.engine.offRouteSeconds = try v.int(0...3_600) },
        .scalar("limits.max_connections", "--max-connections", "60000", "Open HTTP and WebSocket connections at most; past it new connections are closed at once (docs/limits.md)") { c, v in c.engine.limits.maxConnections = try v.int(1...10_000_000) },
        .scalar("limits.rate_limit", "--rate-limit", "1000", "Requests a second per bearer token (per client IP without one), bursts of twice that; past it 429 rate_limited; 0: off; the admin token is exempt") { c, v in c.engine.limits.rateLimitPerSecond = try v.int(0...100_000_000) },
        .scalar("limits.header_timeout_ms", "--header-timeout-ms", "10000", "Milliseconds allowed from a request's first byte to the end of its head; past it 408 and close (100…600000)") { c, v in c.engine.limits.headerTimeoutMs = UInt64(try v.int(100...600_000)) },
        .scalar("limits.max_header_bytes", "--max-header-bytes", "16384", "Bytes of a request line and header fields at most; past it 431 and close (1024…1048576)") { c, v in c.engine.limits.maxHeaderBytes = try v.int(1_024...(1 << 20)) },
        .scalar("limits.max_body_bytes", "--max-body-bytes", "1048576", "Bytes of a request body at most; past it 413 and close (1024…268435456)") { c, v in c.engine.limits.maxBodyBytes = try v.int(1_024...(1 << 28)) },
        .scalar("limits.max_subscriptions", "--max-subscriptions", "64", "Tracking subscriptions (driver, order, bbox) one /v1/ws/track connection may hold; past it too_many_subscriptions (1…100000)") { c, v in c.engine.tracking.maxSubscriptions = try v.int(1...100_000) },
        .scalar("limits.max_queued_bytes", "--max-queued-bytes", "1048576", "Bytes a tracking subscriber may leave unread before it is closed with 1013 (65536…268435456)") { c, v in
            let bytes = try v.int((1 << 16)...(1 << 28))
            c.engine.tracking.hardBudgetBytes = bytes
            c.engine.tracking.softBudgetBytes = min(c.engine.tracking.softBudgetBytes, bytes / 4)
        },
        .scalar("limits.max_orders_per_customer", "--max-orders-per-customer", "100", "Live orders one customer may have at once through POST /v1/orders; past it 429 too_many_orders; 0: no limit") { c, v in c.engine.limits.maxLiveOrdersPerCustomer = try v.int(0...10_000_000) },
        .list("jwt.keys", "--jwt-key", [], "Accept platform JWTs signed with this key (repeat the flag; comma-separated in the environment): an HS256 secret file, an RS256 or ES256 PEM public key, or a JWKS file (docs/auth.md)") { c, v in c.engine.jwt.keyFiles = v.items },
        .scalar("jwt.issuer", "--jwt-issuer", nil, note: "not checked", "Platform JWTs must carry this issuer (iss)") { c, v in c.engine.jwt.issuer = try v.text() },
        .scalar("jwt.audience", "--jwt-audience", nil, note: "not checked", "Platform JWTs' audience (aud) must include this") { c, v in c.engine.jwt.audience = try v.text() },
        .scalar("jwt.role_claim", "--jwt-role-claim", "role", "The claim holding the role: driver, customer, dispatcher or admin") { c, v in c.engine.jwt.roleClaim = try v.text() },
    ]

    /// `--nats` values: comma-separated URLs, each `nats://host:port` (`host:port` gets the scheme).
    static func natsServers(_ v: SettingValue) throws -> [String] {
        try v.items.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { item in
            let url = item.trimmingCharacters(in: .whitespaces)
            let withScheme = url.contains("://") ? url : "nats://" + url
            guard let sep = withScheme.range(of: "://"), case let rest = withScheme[sep.upperBound...],
                  withScheme.hasPrefix("nats://") || withScheme.hasPrefix("tls://"),
                  !rest.isEmpty, !rest.contains(where: { $0 == " " || $0 == "/" }) else {
                throw v.failure("expected nats://HOST:PORT URLs separated by commas, got \"\(url.prefix(80))\"")
            }
            return withScheme
        }
    }

    /// A node name (`--node`): it becomes a NATS subject token.
    static func nodeName(_ v: SettingValue, _ given: String? = nil) throws -> String {
        let name = try given ?? v.text()
        guard ClusterWire.isValidNodeName(name) else {
            throw v.failure("a node name is 1…64 letters, digits, _ or -, got \"\(name.prefix(80))\"")
        }
        return name
    }

    /// Cluster mode (`--node`) keeps leases and orders in PostgreSQL and reaches other shards over NATS: refuses a
    /// node name given without both, naming `--node` (a usage error when the name came from the flag).
    static func checkCluster(_ configuration: ServeConfiguration) throws {
        guard configuration.engine.cluster.node != nil,
              let node = configuration.effective.first(where: { $0.setting.key == "node" })?.value else { return }
        var missing: [String] = []
        if configuration.engine.postgresURL == nil { missing.append("--postgres") }
        if configuration.engine.natsServers.isEmpty { missing.append("--nats") }
        guard missing.isEmpty else {
            throw node.failure("cluster mode (a node name) needs \(missing.joined(separator: " and ")): leases and orders live in PostgreSQL, shards talk over NATS (docs/cluster.md)")
        }
        // A partition is a parent of the live index's cells, so it cannot be finer than them.
        let r = configuration.engine.cluster.partitionResolution, index = configuration.engine.indexResolution
        if r > index, let given = configuration.effective.first(where: { $0.setting.key == "partition_resolution" })?.value {
            throw given.failure("the partition resolution (\(r)) must not be finer than the index resolution (\(index))")
        }
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The setting with this config-file key. A missing key is a programming error in the CLI's flag table.
    public static func setting(_ key: String) -> ServeSetting? { all.first { $0.key == key } }

    /// `--help` text for the setting with this key (empty for an unknown key, which a test rules out).
    public static func help(_ key: String) -> String { setting(key)?.helpText ?? "" }
}

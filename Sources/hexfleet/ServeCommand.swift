import ArgumentParser
import Engine
import Foundation
import Logging

/// `HOST:PORT` as a command-line value.
struct HostPort: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int
    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}

/// `hexfleet serve`: the engine.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the engine: UDP ingest, HTTP/WebSocket API, live map, dispatch.",
        discussion: """
            Secrets come from flags or the environment, never from the repository: --udp-secret or \
            HEXFLEET_UDP_SECRET (hex, ≥ 16 bytes), --admin-token or HEXFLEET_ADMIN_TOKEN, --token-secret or \
            HEXFLEET_TOKEN_SECRET (hex). Without a UDP or token secret a random one is made for this run.
            """)

    @Option(name: .customLong("http"), help: "HTTP and WebSocket listener, HOST:PORT.")
    var http = HostPort(argument: "127.0.0.1:8080")!
    @Option(name: .customLong("udp"), help: "UDP ping listener, HOST:PORT.")
    var udp = HostPort(argument: "127.0.0.1:9090")!
    @Flag(inversion: .prefixedNo, help: "Receive trains of same-size UDP datagrams as one buffer (UDP GRO).")
    var udpGro = true
    @Option(help: "Signing keys cached for UDP tag checks (72 B each); near the fleet size for fleets over 100,000.")
    var udpKeyCache = 1 << 16
    @Option(name: .customLong("data"), help: "Directory for the order store and caches.")
    var data: String?
    @Option(name: .customLong("graph"), help: "Road graph: a saved graph file or an .osm.pbf extract.")
    var graph: String?
    @Flag(inversion: .prefixedNo, help: "Run a simulated demo fleet on the fixture city.")
    var demo = false
    @Option(help: "Drivers in the demo fleet.")
    var demoDrivers = 200
    @Option(help: "UDP signing secret (hex); default $HEXFLEET_UDP_SECRET.")
    var udpSecret: String?
    @Option(help: "Admin bearer token; default $HEXFLEET_ADMIN_TOKEN.")
    var adminToken: String?
    @Option(help: "Token signing secret (hex); default $HEXFLEET_TOKEN_SECRET.")
    var tokenSecret: String?
    @Flag(help: "Serve /v1/ws/echo for WebSocket conformance suites.")
    var wsEcho = false
    @Option(help: "H3 resolution of the live index.")
    var indexResolution = 9
    @Option(help: "Seconds without a ping before a driver is stale.")
    var staleAfter = 120
    @Option(help: "Tracking tick in milliseconds: how often subscribers get coalesced positions (10…1000).")
    var trackTickMs = 100
    @Option(help: "Shortest time between two tracking fan-outs in ms (1…1000; default: the tick): a fix reaches subscribers at once when the hub is idle, else within this time, coalesced.")
    var trackIntervalMs: Int?
    @Option(help: "Open HTTP and WebSocket connections at most; past it new connections are closed at once (docs/limits.md).")
    var maxConnections = 60_000
    @Option(help: "Requests a second per bearer token (per client IP without one), bursts of twice that; past it 429 rate_limited. 0: off. The admin token is exempt.")
    var rateLimit = 1_000
    @Option(help: "Milliseconds allowed from a request's first byte to the end of its head; past it 408 and close (100…600000).")
    var headerTimeoutMs = 10_000
    @Option(help: "Bytes of a request line and header fields at most; past it 431 and close (1024…1048576).")
    var maxHeaderBytes = 16 * 1024
    @Option(help: "Bytes of a request body at most; past it 413 and close (1024…268435456).")
    var maxBodyBytes = 1 << 20
    @Option(help: "Tracking subscriptions (driver, order, bbox) one /v1/ws/track connection may hold; past it too_many_subscriptions.")
    var maxSubscriptions = 64
    @Option(help: "Bytes a tracking subscriber may leave unread before it is closed with 1013 (65536…268435456).")
    var maxQueuedBytes = 1 << 20
    @Option(help: "Live orders one customer may have at once through POST /v1/orders; past it 429 too_many_orders. 0: no limit.")
    var maxOrdersPerCustomer = 100
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"
    @Flag(inversion: .prefixedNo, help: "Keep every accepted ping in the position history (<data>/history).")
    var history = true
    @Option(help: "Days of position history kept (1…3650).")
    var historyRetentionDays = 7
    @OptionGroup(title: "Platform JWTs") var jwt: JWTOptions

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        func secret(_ flag: String?, _ variable: String, _ name: String) throws -> [UInt8] {
            if let hex = flag ?? env[variable] {
                guard let bytes = PingKeys.parseHexSecret(hex) else {
                    throw ValidationError("\(name) must be hex of at least 16 bytes")
                }
                return bytes
            }
            return (0..<32).map { _ in UInt8.random(in: 0...255) }
        }
        var config = EngineConfiguration(udpSecret: try secret(udpSecret, "HEXFLEET_UDP_SECRET", "--udp-secret"),
                                         tokenSecret: try secret(tokenSecret, "HEXFLEET_TOKEN_SECRET", "--token-secret"))
        config.httpHost = http.host; config.httpPort = http.port
        config.udpHost = udp.host; config.udpPort = udp.port; config.udpGRO = udpGro
        guard (1...(1 << 24)).contains(udpKeyCache) else { throw ValidationError("--udp-key-cache must be 1…16777216") }
        config.udpKeyCacheEntries = udpKeyCache
        config.dataDirectory = data
        config.graphPath = graph
        config.demo = demo
        config.demoDrivers = demoDrivers
        config.adminToken = adminToken ?? env["HEXFLEET_ADMIN_TOKEN"]
        config.webSocketEcho = wsEcho
        guard (1...3650).contains(historyRetentionDays) else { throw ValidationError("--history-retention-days must be 1…3650") }
        config.history = history
        config.historyRetentionDays = historyRetentionDays
        jwt.apply(to: &config.jwt)
        // Webhooks and the store's write mode come from the environment (docs/orders.md, docs/storage.md).
        config.webhookURLs = (env["HEXFLEET_WEBHOOK_URLS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let text = env["HEXFLEET_WEBHOOK_SECRET"], !text.isEmpty {
            config.webhookSecret = Hex.decode(text) ?? Array(text.utf8)
        }
        if let g = env["HEXFLEET_STORE_GROUP_COMMIT"]?.lowercased(), g == "0" || g == "off" || g == "false" {
            config.storeGroupCommit = false
        }
        if env["HEXFLEET_STORE_SYNCHRONOUS"]?.lowercased() == "normal" { config.storeSynchronousFull = false }
        guard (0...15).contains(indexResolution) else { throw ValidationError("--index-resolution must be 0…15") }
        config.indexResolution = indexResolution
        guard staleAfter > 0 else { throw ValidationError("--stale-after must be positive") }
        config.staleAfterMs = Int64(staleAfter) * 1000
        guard (10...1_000).contains(trackTickMs) else { throw ValidationError("--track-tick-ms must be 10…1000") }
        config.trackTickMs = UInt64(trackTickMs)
        if let trackIntervalMs {
            guard (1...1_000).contains(trackIntervalMs) else { throw ValidationError("--track-interval-ms must be 1…1000") }
            config.tracking.fanoutIntervalMs = UInt64(trackIntervalMs)
        }
        guard (1...10_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1…10000000") }
        config.limits.maxConnections = maxConnections
        guard (0...100_000_000).contains(rateLimit) else { throw ValidationError("--rate-limit must be 0…100000000") }
        config.limits.rateLimitPerSecond = rateLimit
        guard (100...600_000).contains(headerTimeoutMs) else { throw ValidationError("--header-timeout-ms must be 100…600000") }
        config.limits.headerTimeoutMs = UInt64(headerTimeoutMs)
        guard (1_024...(1 << 20)).contains(maxHeaderBytes) else { throw ValidationError("--max-header-bytes must be 1024…1048576") }
        config.limits.maxHeaderBytes = maxHeaderBytes
        guard (1_024...(1 << 28)).contains(maxBodyBytes) else { throw ValidationError("--max-body-bytes must be 1024…268435456") }
        config.limits.maxBodyBytes = maxBodyBytes
        guard (1...100_000).contains(maxSubscriptions) else { throw ValidationError("--max-subscriptions must be 1…100000") }
        config.tracking.maxSubscriptions = maxSubscriptions
        guard ((1 << 16)...(1 << 28)).contains(maxQueuedBytes) else { throw ValidationError("--max-queued-bytes must be 65536…268435456") }
        config.tracking.hardBudgetBytes = maxQueuedBytes
        config.tracking.softBudgetBytes = min(config.tracking.softBudgetBytes, maxQueuedBytes / 4)
        guard maxOrdersPerCustomer >= 0 else { throw ValidationError("--max-orders-per-customer must be ≥ 0") }
        config.limits.maxLiveOrdersPerCustomer = maxOrdersPerCustomer
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        try EngineRunner.runHere(config, ready: { engine in
            FileHandle.standardError.write(Data("hexfleet listening: http://\(engine.httpAddress!) udp \(engine.udpAddress!)\n".utf8))
        })
    }
}

import ArgumentParser
import Engine
import Foundation
import Logging

/// `HOST:PORT` as a command-line value, shown in `--help` as users write it (`127.0.0.1:8080`).
struct HostPort: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let host: String
    let port: Int
    init?(argument: String) {
        guard let parsed = HostAndPort(argument) else { return nil }
        host = parsed.host
        port = parsed.port
    }
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    var defaultValueDescription: String { description }
}

/// `hexfleet serve`: the engine. Every setting is a row of `ServeSettings` (Engine/Config), which gives its config
/// key, environment variable, default and parser; the options here are all optional so that a flag not given lets the
/// environment, then the config file, then the default decide.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the engine: UDP ingest, HTTP/WebSocket API, live map, dispatch.",
        discussion: """
            Every setting below can also come from an environment variable (HEXFLEET_ and its config key in \
            capitals) or a YAML config file (--config); flags win over the environment, the environment over the \
            file, the file over the defaults. docs/configuration.md lists every key; --print-config shows what is in \
            force. Secrets never come from the repository: without a configured UDP or token secret one is generated \
            and kept in DATA/secrets (mode 0600) for the next start; with --demo and no admin token one is made too \
            and printed on stdout as "admin token: …".
            """)

    @Option(help: ArgumentHelp("YAML config file with any of the settings below (default: $HEXFLEET_CONFIG).", valueName: "file"))
    var config: String?
    @Flag(help: "Print the effective configuration as a config file (secrets redacted) and exit.")
    var printConfig = false

    @Option(name: .customLong("http"), help: setting("http", "host:port")) var http: String?
    @Option(name: .customLong("udp"), help: setting("udp", "host:port")) var udp: String?
    @Flag(inversion: .prefixedNo, help: setting("udp_gro")) var udpGro: Bool?
    @Option(help: setting("udp_key_cache", "n")) var udpKeyCache: String?
    @Option(name: .customLong("data"), help: setting("data", "dir")) var data: String?
    @Option(name: .customLong("graph"), help: setting("graph", "[profile=]file")) var graphs: [String] = []
    @Flag(inversion: .prefixedNo, help: setting("demo")) var demo: Bool?
    @Option(help: setting("demo_drivers", "n")) var demoDrivers: String?
    @Option(help: setting("udp_secret", "hex")) var udpSecret: String?
    @Option(help: setting("token_secret", "hex")) var tokenSecret: String?
    @Option(help: setting("admin_token", "token")) var adminToken: String?
    @Flag(inversion: .prefixedNo, help: setting("ws_echo")) var wsEcho: Bool?
    @Option(help: setting("index_resolution", "n")) var indexResolution: String?
    @Option(help: setting("stale_after", "seconds")) var staleAfter: String?
    @Option(help: setting("track_tick_ms", "ms")) var trackTickMs: String?
    @Option(help: setting("track_interval_ms", "ms")) var trackIntervalMs: String?
    @Option(help: setting("log_level", "level")) var logLevel: String?
    @Option(name: .customLong("webhook-url"), help: setting("webhook.urls", "url")) var webhookURLs: [String] = []
    @Option(help: setting("webhook.secret", "secret")) var webhookSecret: String?
    @Option(name: .customLong("nats"), help: setting("nats", "url[,url…]")) var nats: [String] = []
    @Option(help: setting("cluster.query_timeout_ms", "ms")) var clusterQueryTimeoutMs: String?
    @Flag(inversion: .prefixedNo, help: setting("store.group_commit")) var storeGroupCommit: Bool?
    @Option(help: setting("store.synchronous", "mode")) var storeSynchronous: String?
    @Option(help: setting("postgres", "url")) var postgres: String?
    @Option(help: setting("node", "name")) var node: String?
    @Option(help: setting("partition_resolution", "r")) var partitionResolution: String?
    @Flag(inversion: .prefixedNo, help: setting("dispatch_stacking")) var dispatchStacking: Bool?
    @Option(help: setting("dispatch_hold_lead_s", "seconds")) var dispatchHoldLeadS: String?
    @Option(help: setting("dispatch_delay_weight", "weight")) var dispatchDelayWeight: String?
    @Flag(inversion: .prefixedNo, help: setting("history")) var history: Bool?
    @Flag(inversion: .prefixedNo, help: setting("fence_thread")) var fenceThread: Bool?
    @Option(help: setting("history_retention_days", "days")) var historyRetentionDays: String?
    @Option(help: setting("arrival_radius_m", "meters")) var arrivalRadiusM: String?
    @Option(help: setting("arrival_drive_time_s", "seconds")) var arrivalDriveTimeS: String?
    @Option(help: setting("off_route_m", "meters")) var offRouteM: String?
    @Option(help: setting("off_route_s", "seconds")) var offRouteS: String?
    @Option(help: setting("limits.max_connections", "n")) var maxConnections: String?
    @Option(help: setting("limits.rate_limit", "per-second")) var rateLimit: String?
    @Option(help: setting("limits.header_timeout_ms", "ms")) var headerTimeoutMs: String?
    @Option(help: setting("limits.max_header_bytes", "bytes")) var maxHeaderBytes: String?
    @Option(help: setting("limits.max_body_bytes", "bytes")) var maxBodyBytes: String?
    @Option(help: setting("limits.max_subscriptions", "n")) var maxSubscriptions: String?
    @Option(help: setting("limits.max_queued_bytes", "bytes")) var maxQueuedBytes: String?
    @Option(help: setting("limits.max_orders_per_customer", "n")) var maxOrdersPerCustomer: String?
    @Option(name: .customLong("jwt-key"), help: setting("jwt.keys", "file")) var jwtKeys: [String] = []
    @Option(name: .customLong("jwt-issuer"), help: setting("jwt.issuer", "iss")) var jwtIssuer: String?
    @Option(name: .customLong("jwt-audience"), help: setting("jwt.audience", "aud")) var jwtAudience: String?
    @Option(name: .customLong("jwt-role-claim"), help: setting("jwt.role_claim", "claim")) var jwtRoleClaim: String?

    /// The flags given on this command line, by config key.
    private var givenFlags: [String: [String]] {
        let values: [(String, String?)] = [
            ("http", http), ("udp", udp), ("udp_key_cache", udpKeyCache), ("data", data),
            ("demo_drivers", demoDrivers), ("udp_secret", udpSecret), ("token_secret", tokenSecret),
            ("admin_token", adminToken), ("index_resolution", indexResolution), ("stale_after", staleAfter),
            ("track_tick_ms", trackTickMs), ("track_interval_ms", trackIntervalMs), ("log_level", logLevel),
            ("webhook.secret", webhookSecret), ("store.synchronous", storeSynchronous), ("postgres", postgres),
            ("history_retention_days", historyRetentionDays), ("node", node), ("partition_resolution", partitionResolution),
            ("arrival_radius_m", arrivalRadiusM), ("arrival_drive_time_s", arrivalDriveTimeS),
            ("off_route_m", offRouteM), ("off_route_s", offRouteS),
            ("limits.max_connections", maxConnections), ("limits.rate_limit", rateLimit),
            ("limits.header_timeout_ms", headerTimeoutMs), ("limits.max_header_bytes", maxHeaderBytes),
            ("limits.max_body_bytes", maxBodyBytes), ("limits.max_subscriptions", maxSubscriptions),
            ("limits.max_queued_bytes", maxQueuedBytes), ("limits.max_orders_per_customer", maxOrdersPerCustomer),
            ("jwt.issuer", jwtIssuer), ("jwt.audience", jwtAudience), ("jwt.role_claim", jwtRoleClaim),
            ("cluster.query_timeout_ms", clusterQueryTimeoutMs),
            ("dispatch_hold_lead_s", dispatchHoldLeadS), ("dispatch_delay_weight", dispatchDelayWeight),
        ]
        let switches: [(String, Bool?)] = [
            ("udp_gro", udpGro), ("demo", demo), ("ws_echo", wsEcho), ("store.group_commit", storeGroupCommit),
            ("history", history), ("dispatch_stacking", dispatchStacking), ("fence_thread", fenceThread),
        ]
        var flags: [String: [String]] = [:]
        for (key, value) in values { if let value { flags[key] = [value] } }
        for (key, value) in switches { if let value { flags[key] = [value ? "true" : "false"] } }
        if !webhookURLs.isEmpty { flags["webhook.urls"] = webhookURLs }
        if !jwtKeys.isEmpty { flags["jwt.keys"] = jwtKeys }
        if !nats.isEmpty { flags["nats"] = nats }
        if !graphs.isEmpty { flags["graph"] = graphs }
        return flags
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var serve: ServeConfiguration
        do {
            let path = config ?? environment["HEXFLEET_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            let file = try path.map { try ConfigFile.load(path: $0) }
            serve = try ServeConfiguration.resolve(flags: givenFlags, environment: environment, file: file)
        } catch let error as ConfigurationError where error.isFlagError {
            throw ValidationError(error.description)   // a usage error: exit 64 with the usage line
        }
        if printConfig {
            print(serve.printable(), terminator: "")
            return
        }
        let level = serve.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if let directory = serve.engine.dataDirectory { try DataDirectory.prepare(directory) }
        let secrets = try SecretsFile.complete(&serve, logger: Logger(label: "hexfleet.serve"))
        try EngineRunner.runHere(serve.engine, ready: { engine in
            FileHandle.standardError.write(Data("hexfleet listening: http://\(engine.httpAddress!) udp \(engine.udpAddress!)\n".utf8))
            if let token = secrets.adminTokenToPrint {
                // Unbuffered, so a script reading the pipe sees it at once.
                FileHandle.standardOutput.write(Data("admin token: \(token)\n".utf8))
            }
        })
    }
}

/// `--help` for a serve option: the setting's meaning, default, variable and config key from `ServeSettings`.
private func setting(_ key: String, _ valueName: String? = nil) -> ArgumentHelp {
    ArgumentHelp(ServeSettings.help(key), valueName: valueName)
}

import ArgumentParser
import Dispatcher
import Engine
import Foundation
import Routing

/// `hexfleet simulate`: a fleet driving on the road graph, pinging a running engine over UDP and placing orders over
/// its HTTP API; or, with `--offline`, the same fleet and demand in virtual time to compare dispatch policies.
/// The last line on stdout is one JSON object (docs/simulator.md lists its fields).
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Drive a simulated fleet against an engine, or compare dispatch policies offline.",
        discussion: """
            Online (default): N drivers follow shortest paths between random destinations and send signed UDP pings \
            every --period seconds to --udp (driver-signed datagrams with --batch 1, else gateway datagrams of \
            --batch records signed with HMAC(secret, "gateway:<--gateway-id>")). Orders arrive as a Poisson process \
            over H3 zones with hot spots and go through POST /v1/orders on --http. A report goes to stderr every \
            --report-every seconds; the last stdout line is JSON.
            Offline (--offline): no sockets; virtual time; dispatch rounds with road ETAs. --scenario city (default): \
            --policy greedy|batch|single (single = batch). --scenario food: restaurants, preparation times, deadlines \
            and a lunch peak, --policy single|stacked; its JSON has delivered, unserved, late, mean_delivery_s, \
            p90_delivery_s, mean_ride_s, courier_travel_s_per_delivery. Online, the engine dispatches: --policy \
            single (couriers carry one order at a time) or, with --scenario food, stacked (couriers accept offers up \
            to their capacity and drive the route GET /v1/drivers/{id}/route plans); the food scenario online places \
            its orders with ready_in_s, deadline_s and max_ride_s and drains for up to --drain seconds.
            Secrets: --udp-secret or HEXFLEET_UDP_SECRET (hex), --admin-token or HEXFLEET_ADMIN_TOKEN; never printed.
            """)

    @Option(help: "Road graph: a saved graph file or an .osm.pbf extract.")
    var graph = "fixtures/monaco.osm.pbf"
    @Option(help: "Save an imported .osm.pbf graph here and reuse it on the next run.")
    var graphCache: String?
    @Option(help: "Number of simulated drivers (1…1,000,000; default 100, food scenario 90).")
    var drivers: Int?
    @Option(help: "Run length in seconds (virtual seconds with --offline; default 60, food scenario's order window 10800).")
    var duration: Double?
    @Option(help: "Random seed: the same seed gives the same fleet, demand and (offline) report.")
    var seed: UInt64 = 1
    @Option(name: .customLong("udp"), help: "The engine's UDP ping listener, HOST:PORT.")
    var udp = HostPort(argument: "127.0.0.1:9090")!
    @Option(name: .customLong("http"), help: "The engine's HTTP listener, HOST:PORT.")
    var http = HostPort(argument: "127.0.0.1:8080")!
    @Option(help: "UDP signing secret (hex), as the server's; default $HEXFLEET_UDP_SECRET.")
    var udpSecret: String?
    @Option(help: "Admin bearer token for orders and probes; default $HEXFLEET_ADMIN_TOKEN.")
    var adminToken: String?
    @Option(help: "How pings travel: udp (signed datagrams) or ws (one /v1/ws/driver WebSocket per driver, admin token).")
    var transport: OnlineSimulation.Transport = .udp
    @Option(help: "Records per datagram: 1 = each driver signs its own; more = gateway datagrams.")
    var batch = 1
    @Option(help: "Gateway id for batched datagrams (key = HMAC(secret, \"gateway:<id>\")).")
    var gatewayId: UInt64 = 1
    @Option(help: "Seconds between a driver's pings.")
    var period = 2.0
    @Option(help: "Ping interval jitter, as a fraction of the period (0…0.5).")
    var jitter = 0.1
    @Option(help: "The first driver id; drivers are numbered from it.")
    var firstDriverId: UInt64 = 1
    @Option(help: "Order arrivals per minute over the whole city (Poisson; default 0 = none); food scenario: at the lunch peak (default 3).")
    var ordersPerMinute: Double?
    @Option(help: "Probability that a courier accepts an offer.")
    var acceptProbability = 0.9
    @Option(help: "Seconds between live reports on stderr (online).")
    var reportEvery = 5.0
    @Flag(help: "Run in virtual time without sockets and compare dispatch policies.")
    var offline = false
    @Option(help: "Dispatch policy: greedy|batch|single (city, default greedy), single|stacked (food, default single); online: single, or stacked with --scenario food.")
    var policy: SimulationPolicy?
    @Option(help: "What the simulation plays: city (roaming fleet, orders anywhere) or food (restaurants, lunch peak, stacking).")
    var scenario: SimulationScenario = .city
    @Option(help: "Online food scenario: seconds the run goes on after --duration while orders are still open (default 2700, the delivery deadline).")
    var drain = 2_700.0
    @Flag(help: "Print the report as one JSON object on stdout (it always is; the flag makes scripts explicit).")
    var json = false
    @Option(help: "Seconds between dispatch rounds (--offline).")
    var roundSeconds = 10.0
    @Option(help: "Hub destinations drivers roam between (shortest paths precomputed for each pair).")
    var hubs = 40
    @Option(help: "H3 zones with a raised order rate.")
    var hotSpots = 3
    @Flag(help: "Offline food scenario, --policy stacked: the dispatcher learns each courier's pace from its last leg instead of assuming the fleet's mean speed (off by default; docs/simulator.md).")
    var learnCourierPace = false

    /// Flags the food scenario defaults differently from the city one.
    var driverCount: Int { drivers ?? (scenario == .food ? 90 : 100) }
    var durationSeconds: Double { duration ?? (scenario == .food ? 10_800 : 60) }
    var orderRate: Double { ordersPerMinute ?? (scenario == .food ? 3 : 0) }

    func validate() throws {
        let drivers = driverCount, duration = durationSeconds, ordersPerMinute = orderRate
        switch (scenario, policy) {
        case (.food, .greedy?), (.food, .batch?):
            throw ValidationError("--policy for --scenario food must be single or stacked")
        case (.city, .stacked?):
            throw ValidationError("--policy stacked needs --scenario food (the city scenario has no restaurants, ready times or deadlines)")
        default: break
        }
        if learnCourierPace && !(offline && scenario == .food && policy == .stacked) {
            throw ValidationError("--learn-courier-pace needs --offline --scenario food --policy stacked")
        }
        if !offline {
            if let policy, policy != .single && policy != .stacked {
                throw ValidationError("--policy \(policy.rawValue) is offline only: online, the engine dispatches (use --policy single, stacked with --scenario food, or none)")
            }
            guard drain >= 0, drain <= 86_400 else { throw ValidationError("--drain must be 0…86400 seconds") }
        }
        if scenario == .food {
            guard driverCount <= 20_000 else { throw ValidationError("--drivers for --scenario food must be 1…20,000") }
            guard orderRate <= 1_000 else { throw ValidationError("--orders-per-minute for --scenario food must be 0…1,000") }
        }
        guard (1...1_000_000).contains(drivers) else { throw ValidationError("--drivers must be 1…1,000,000") }
        guard duration > 0, duration.isFinite, duration <= 7 * 86_400 else { throw ValidationError("--duration must be positive seconds (at most a week)") }
        guard (1...PingWire.maxRecords).contains(batch) else { throw ValidationError("--batch must be 1…\(PingWire.maxRecords)") }
        guard period >= 0.05, period <= 3_600 else { throw ValidationError("--period must be 0.05…3600 seconds") }
        guard (0...0.5).contains(jitter) else { throw ValidationError("--jitter must be 0…0.5") }
        guard ordersPerMinute >= 0, ordersPerMinute.isFinite, ordersPerMinute <= 100_000 else {
            throw ValidationError("--orders-per-minute must be 0…100,000")
        }
        guard (0...1).contains(acceptProbability) else { throw ValidationError("--accept-probability must be 0…1") }
        guard reportEvery > 0 else { throw ValidationError("--report-every must be positive") }
        guard roundSeconds >= 1, roundSeconds <= 600 else { throw ValidationError("--round-seconds must be 1…600") }
        guard (2...1_000).contains(hubs) else { throw ValidationError("--hubs must be 2…1000") }
        guard (0...100).contains(hotSpots) else { throw ValidationError("--hot-spots must be 0…100") }
        guard firstDriverId >= 1, firstDriverId <= UInt64.max - UInt64(drivers) else { throw ValidationError("--first-driver-id is out of range") }
        if !offline && transport == .ws {
            guard http.port > 0 else { throw ValidationError("--http needs a non-zero port") }
            guard drivers <= 20_000 else { throw ValidationError("--transport ws opens a socket per driver: at most 20,000 --drivers") }
            guard adminToken ?? ProcessInfo.processInfo.environment["HEXFLEET_ADMIN_TOKEN"] != nil else {
                throw ValidationError("--transport ws needs --admin-token or HEXFLEET_ADMIN_TOKEN")
            }
        }
        if !offline && transport == .udp {
            guard udp.port > 0, http.port > 0 else { throw ValidationError("--udp and --http need a non-zero port") }
            let env = ProcessInfo.processInfo.environment
            guard let hex = udpSecret ?? env["HEXFLEET_UDP_SECRET"] else {
                throw ValidationError("online runs need the server's UDP secret: --udp-secret or HEXFLEET_UDP_SECRET")
            }
            guard PingKeys.parseHexSecret(hex) != nil else { throw ValidationError("--udp-secret must be hex of at least 16 bytes") }
        }
    }

    func run() throws {
        let started = ContinuousClock.now
        let network: RoadNetwork
        do {
            network = try RoadNetwork.open(path: graph, cachePath: graphCache)
        } catch {
            SimStderr.write("simulate: cannot open graph \(graph): \(error)")
            throw ExitCode.failure
        }
        SimStderr.write("simulate: graph \(network.graph.nodeCount) nodes, \(network.graph.edgeCount) edges, loaded in \(ContinuousClock.now - started)")
        if offline && scenario == .food {
            var s = FoodSimulation.Scenario()
            s.couriers = driverCount
            s.windowSeconds = durationSeconds
            s.seed = seed
            s.policy = policy?.foodPolicy ?? .single
            s.demand.peakOrdersPerMinute = orderRate
            s.roundSeconds = roundSeconds
            s.acceptProbability = acceptProbability
            s.stacking.learnsCourierPace = learnCourierPace
            do {
                let runStart = ContinuousClock.now
                let report = try FoodSimulation(scenario: s, network: network).run { SimStderr.write("simulate: \($0)") }
                SimStderr.write("simulate: food run took \(ContinuousClock.now - runStart)")
                print(report.jsonLine)
            } catch {
                SimStderr.write("simulate: \(error)")
                throw ExitCode.failure
            }
            return
        }
        let drivers = driverCount, duration = durationSeconds, ordersPerMinute = orderRate
        let report: SimReport
        do {
            if offline {
                var s = OfflineSimulation.Scenario()
                s.drivers = drivers
                s.durationSeconds = duration
                s.seed = seed
                s.policy = policy?.cityPolicy ?? .greedyNearest
                s.ordersPerMinute = ordersPerMinute
                s.roundSeconds = roundSeconds
                s.acceptProbability = acceptProbability
                s.hubs = hubs
                s.hotSpots = hotSpots
                let runStart = ContinuousClock.now
                var offlineReport = try OfflineSimulation(scenario: s, network: network).run { SimStderr.write("simulate: \($0)") }
                offlineReport.policy = (policy ?? .greedy).rawValue
                report = offlineReport
                SimStderr.write("simulate: offline run took \(ContinuousClock.now - runStart)")
            } else {
                let env = ProcessInfo.processInfo.environment
                var c = OnlineSimulation.Config(udp: udp, http: http,
                                                secret: PingKeys.parseHexSecret(udpSecret ?? env["HEXFLEET_UDP_SECRET"] ?? "")
                                                    ?? [UInt8](repeating: 0, count: 32))
                c.adminToken = adminToken ?? env["HEXFLEET_ADMIN_TOKEN"]
                c.drivers = drivers
                c.durationSeconds = duration
                c.seed = seed
                c.batch = batch
                c.gatewayID = gatewayId
                c.periodSeconds = period
                c.jitter = jitter
                c.firstDriverID = firstDriverId
                c.ordersPerMinute = ordersPerMinute
                c.acceptProbability = acceptProbability
                c.reportEverySeconds = reportEvery
                c.hubs = hubs
                c.hotSpots = hotSpots
                c.transport = transport
                c.scenario = scenario
                c.policy = policy
                c.drainSeconds = drain
                var onlineReport = try OnlineSimulation(config: c, network: network).run { SimStderr.write("simulate: \($0)") }
                onlineReport.policy = policy?.rawValue   // the couriers' policy; the engine dispatches with its own
                report = onlineReport
            }
        } catch {
            SimStderr.write("simulate: \(error)")
            throw ExitCode.failure
        }
        print(report.jsonLine)
    }
}

extension OnlineSimulation.Transport: ExpressibleByArgument {}

import Engine
import Foundation
import Synchronization
import Testing
import TestSupport

/// `hexfleet simulate` as a user runs it: the built executable in a child process, its last stdout line parsed as
/// JSON. The online test runs it against a real engine on loopback ports and checks `/metrics`.
@Suite(.serialized) struct SimulatorTests {
    /// The `hexfleet` executable next to the test bundle (SwiftPM builds both into the same folder).
    static var executable: String {
        if let path = ProcessInfo.processInfo.environment["HEXFLEET_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = bundle.deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("hexfleet").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("hexfleet").path
    }

    /// The repository's Monaco fixture.
    static var monaco: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/EngineTests/SimulatorTests.swift
        return url.appendingPathComponent("fixtures/monaco.osm.pbf").path
    }

    /// Imported once per test process and shared through a cache file, so each run loads it in milliseconds.
    static let graphCache = FileManager.default.temporaryDirectory
        .appendingPathComponent("hexfleet-sim-tests-\(getpid()).hxg").path

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The last stdout line as a JSON object.
        var json: [String: Any]? {
            guard let line = stdout.split(separator: "\n").last else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }
    }

    static func simulate(_ args: [String], environment: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["simulate"] + args
        var env = ProcessInfo.processInfo.environment
        env["HEXFLEET_UDP_SECRET"] = nil
        env["HEXFLEET_ADMIN_TOKEN"] = nil
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes before waiting so a chatty child never blocks on a full pipe.
        let errData = Mutex<Data>(Data())
        let reader = Thread { errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1_000) }
        return Run(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
    }

    static let offlineArgs = ["--offline", "--graph", monaco, "--graph-cache", graphCache, "--drivers", "60",
                              "--duration", "900", "--orders-per-minute", "6", "--hubs", "8", "--round-seconds", "10"]

    @Test("an offline run ends with one JSON line carrying every documented field")
    func offlineJSONFields() throws {
        let run = try Self.simulate(Self.offlineArgs + ["--seed", "5"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        for key in ["pings_sent", "orders_created", "orders_assigned", "orders_delivered", "mean_pickup_eta_s",
                    "p95_pickup_eta_s", "mean_wait_s", "policy", "seed"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let created = try #require((json["orders_created"] as? NSNumber)?.intValue)
        let assigned = try #require((json["orders_assigned"] as? NSNumber)?.intValue)
        let delivered = try #require((json["orders_delivered"] as? NSNumber)?.intValue)
        // 15 minutes at 6 per minute: about 90 orders; a fleet of 60 serves most of them.
        #expect(created > 50 && created < 140)
        #expect(assigned > 0 && assigned <= created)
        #expect(delivered > 0 && delivered <= assigned)
        let eta = try #require((json["mean_pickup_eta_s"] as? NSNumber)?.doubleValue)
        let p95 = try #require((json["p95_pickup_eta_s"] as? NSNumber)?.doubleValue)
        #expect(eta > 0 && eta <= p95)
    }

    @Test("the same seed gives the same offline JSON line; another seed a different one; both policies run")
    func offlineDeterminism() throws {
        let a = try Self.simulate(Self.offlineArgs + ["--seed", "7", "--policy", "batch"])
        let b = try Self.simulate(Self.offlineArgs + ["--seed", "7", "--policy", "batch"])
        let c = try Self.simulate(Self.offlineArgs + ["--seed", "8", "--policy", "batch"])
        #expect(a.status == 0 && b.status == 0 && c.status == 0, "stderr: \(a.stderr)")
        #expect(!a.lastLine.isEmpty && a.lastLine == b.lastLine)
        #expect(a.lastLine != c.lastLine)
        #expect(a.json?["policy"] as? String == "batch")
    }

    @Test("bad flags are usage errors naming the flag, before any work")
    func flagValidation() throws {
        for (args, flag) in [(["--udp", "localhost"], "--udp"), (["--http", "127.0.0.1:99999"], "--http"),
                             (["--drivers", "0", "--offline"], "--drivers"), (["--batch", "5000", "--offline"], "--batch"),
                             (["--policy", "fastest", "--offline"], "--policy"),
                             (["--udp-secret", "zz", "--udp", "127.0.0.1:9"], "--udp-secret")] {
            let run = try Self.simulate(args)
            #expect(run.status == 64, "\(args): status \(run.status)")
            #expect(run.stderr.contains(flag), "\(args): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        // Online without a secret is refused too.
        let noSecret = try Self.simulate(["--udp", "127.0.0.1:9", "--http", "127.0.0.1:9"])
        #expect(noSecret.status == 64 && noSecret.stderr.contains("HEXFLEET_UDP_SECRET"))
    }

    @Test("an online run against a real engine: every sent ping shows as accepted in /metrics", arguments: [1, 40])
    func onlineAgainstEngine(batch: Int) throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let before = try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}") ?? 0
        let secretHex = TestEngine.secret.map { String(format: "%02x", $0) }.joined()
        // 400 one-record drivers put several pings in each 10 ms slot, so they leave as segmented sends.
        let drivers = batch == 1 ? 400 : 50
        let run = try Self.simulate(
            ["--graph", Self.monaco, "--graph-cache", Self.graphCache, "--drivers", "\(drivers)", "--duration", "3",
             "--period", "0.5", "--hubs", "6", "--batch", "\(batch)", "--udp", "127.0.0.1:\(engine.udp)",
             "--http", "127.0.0.1:\(engine.http)", "--report-every", "1"],
            environment: ["HEXFLEET_UDP_SECRET": secretHex, "HEXFLEET_ADMIN_TOKEN": TestEngine.admin])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        let sent = try #require((json["pings_sent"] as? NSNumber)?.doubleValue)
        let accepted = try #require((json["pings_accepted"] as? NSNumber)?.doubleValue)
        // A ping each half second for 3 s: about 6 per driver.
        #expect(sent >= Double(4 * drivers))
        #expect(accepted == sent, "loss on loopback: \(run.stderr)")
        let after = try #require(try engine.metric("hexfleet_pings_accepted_total{transport=\"udp\"}"))
        #expect(after - before == sent)
        #expect(try engine.metric("hexfleet_udp_dropped_total{reason=\"bad_tag\"}") ?? 0 == 0)
        // A sender that fell behind used to stamp a driver's catch-up pings with one time: replays (seen under the
        // sanitizers on a loaded machine).
        #expect(try engine.metric("hexfleet_udp_dropped_total{reason=\"replay\"}") ?? 0 == 0)
        #expect((json["latency_samples"] as? NSNumber)?.intValue ?? 0 > 0)
        // A driver the simulator moved is in the index, on the Monaco map.
        let body = try #require(try engine.get("/v1/drivers/1").json as? [String: Any])
        let lat = try #require(body["lat"] as? Double)
        #expect(lat > 43.6 && lat < 43.9)
    }

    @Test("pings over one /v1/ws/driver WebSocket per driver show as accepted with transport ws")
    func onlineOverWebSocket() throws {
        let engine = try TestEngine()
        defer { engine.close() }
        let run = try Self.simulate(
            ["--transport", "ws", "--graph", Self.monaco, "--graph-cache", Self.graphCache, "--drivers", "20",
             "--first-driver-id", "500", "--duration", "2", "--period", "0.5", "--hubs", "6",
             "--http", "127.0.0.1:\(engine.http)"],
            environment: ["HEXFLEET_ADMIN_TOKEN": TestEngine.admin])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(run.json, "last line: \(run.lastLine)")
        let sent = try #require((json["pings_sent"] as? NSNumber)?.doubleValue)
        #expect(sent >= 40)
        #expect((json["pings_accepted"] as? NSNumber)?.doubleValue == sent, "stderr: \(run.stderr)")
        #expect(try engine.metric("hexfleet_pings_accepted_total{transport=\"ws\"}") == sent)
        #expect(try engine.metric("hexfleet_pings_dropped_total{reason=\"replay\"}") ?? 0 == 0)
        #expect(try engine.get("/v1/drivers/500").status == 200)
    }
}

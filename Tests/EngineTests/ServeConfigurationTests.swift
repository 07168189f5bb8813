import Engine
import Foundation
import Testing

/// `hexfleet serve`'s settings: four layers (flags > environment > config file > defaults), the YAML file and its
/// errors, `--print-config`, the secrets kept in the data directory, and the data directory itself.
@Suite struct ServeConfigurationTests {
    static func file(_ yaml: String) throws -> ConfigFile { try ConfigFile(yaml: yaml, path: "/etc/hexfleet.yaml") }

    /// The error a resolution threw, as text, or nil.
    static func resolveError(flags: [String: [String]] = [:], environment: [String: String] = [:], yaml: String? = nil) -> ConfigurationError? {
        do {
            _ = try ServeConfiguration.resolve(flags: flags, environment: environment, file: yaml.map(Self.file))
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
            return nil
        }
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-cfg-\(UInt64.random(in: 0 ... .max))").path
        return path
    }

    @Test("with nothing given every setting takes the default of the table")
    func defaults() throws {
        let c = try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil)
        #expect(c.engine.httpHost == "127.0.0.1" && c.engine.httpPort == 8080)
        #expect(c.engine.udpHost == "127.0.0.1" && c.engine.udpPort == 9090)
        #expect(c.engine.demo == false && c.engine.demoDrivers == 200 && c.engine.udpGRO)
        #expect(c.engine.udpKeyCacheEntries == 65_536 && c.engine.staleAfterMs == 120_000 && c.engine.trackTickMs == 100)
        #expect(c.engine.dataDirectory == nil && c.engine.adminToken == nil && c.udpSecret == nil && c.tokenSecret == nil)
        #expect(c.engine.storeGroupCommit && c.engine.storeSynchronousFull && c.logLevel == .info)
        #expect(c.effective.count == ServeSettings.all.count)
    }

    @Test("a flag beats the environment, which beats the file, which beats the default")
    func precedence() throws {
        let yaml = "http: 10.0.0.1:1001\nudp: 10.0.0.1:2001\nudp_key_cache: 3001\ndemo_drivers: 7\n"
        let environment = ["HEXFLEET_HTTP": "10.0.0.2:1002", "HEXFLEET_UDP": "10.0.0.2:2002"]
        let flags = ["http": ["10.0.0.3:1003"]]
        let c = try ServeConfiguration.resolve(flags: flags, environment: environment, file: Self.file(yaml))
        #expect(c.engine.httpHost == "10.0.0.3" && c.engine.httpPort == 1003, "flag over environment and file")
        #expect(c.engine.udpHost == "10.0.0.2" && c.engine.udpPort == 2002, "environment over file")
        #expect(c.engine.udpKeyCacheEntries == 3001 && c.engine.demoDrivers == 7, "file over default")
        #expect(c.engine.indexResolution == 9, "default")
        let sources = Dictionary(uniqueKeysWithValues: c.effective.map { ($0.setting.key, $0.value?.source) })
        #expect(sources["http"] == .flag("--http"))
        #expect(sources["udp"] == .environment("HEXFLEET_UDP"))
        #expect(sources["udp_key_cache"] == .file(path: "/etc/hexfleet.yaml", line: 3))
        #expect(sources["index_resolution"] == .defaultValue)
        #expect(sources["graph"] == .some(nil), "unset without a default")
    }

    @Test("nested sections and dotted keys are the same key; lists come from sequences, repeated flags or commas")
    func sectionsAndLists() throws {
        let nested = try ServeConfiguration.resolve(flags: [:], environment: [:], file: Self.file("""
            store:
              group_commit: off
              synchronous: NORMAL
            webhook:
              urls:
                - http://127.0.0.1:9/a
                - http://127.0.0.1:9/b
            """))
        #expect(!nested.engine.storeGroupCommit && !nested.engine.storeSynchronousFull)
        #expect(nested.engine.webhookURLs == ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"])
        let dotted = try ServeConfiguration.resolve(flags: [:], environment: [:], file: Self.file("store.group_commit: no\nwebhook.urls: http://127.0.0.1:9/c\n"))
        #expect(!dotted.engine.storeGroupCommit && dotted.engine.webhookURLs == ["http://127.0.0.1:9/c"])
        let fromEnvironment = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_WEBHOOK_URLS": " http://a:1/x, ,http://b:2/y "], file: nil)
        #expect(fromEnvironment.engine.webhookURLs == ["http://a:1/x", "http://b:2/y"])
        let fromFlags = try ServeConfiguration.resolve(flags: ["webhook.urls": ["http://c:3/z", "http://d:4/w"]],
                                                       environment: ["HEXFLEET_WEBHOOK_URLS": "http://a:1/x"], file: nil)
        #expect(fromFlags.engine.webhookURLs == ["http://c:3/z", "http://d:4/w"])
    }

    @Test("a null or empty value in the file, and an empty environment variable, leave the setting to the next layer")
    func nullsAndEmpties() throws {
        let c = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_DEMO_DRIVERS": ""],
                                               file: Self.file("graph: ~\ndata:\ndemo_drivers: 5\n"))
        #expect(c.engine.graphPath == nil && c.engine.dataDirectory == nil && c.engine.demoDrivers == 5)
        #expect(try Self.file("").entries.isEmpty)
        #expect(try Self.file("# only a comment\n").entries.isEmpty)
    }

    @Test("an unknown key in the file is an error naming it, its line, and the nearest known key")
    func unknownKey() throws {
        let error = try #require(Self.resolveError(yaml: "http: 127.0.0.1:1\nudp_keycache: 5\n"))
        #expect(error.key == "udp_keycache" && error.source == .file(path: "/etc/hexfleet.yaml", line: 2))
        #expect(error.description.contains("/etc/hexfleet.yaml:2") && error.description.contains("'udp_keycache'"), "\(error)")
        #expect(error.description.contains("did you mean 'udp_key_cache'"), "\(error)")
        let far = try #require(Self.resolveError(yaml: "store:\n  compression: zstd\n"))
        #expect(far.key == "store.compression" && far.description.contains("docs/configuration.md"), "\(far)")
    }

    @Test("a bad value names its key and its layer", arguments: [
        ("udp_key_cache: lots", "udp_key_cache", "must be an integer 1…16777216"),
        ("track_tick_ms: 5", "track_tick_ms", "must be an integer 10…1000"),
        ("http: localhost", "http", "must be HOST:PORT"),
        ("udp: 127.0.0.1:70000", "udp", "must be HOST:PORT"),
        ("demo: maybe", "demo", "must be true or false"),
        ("log_level: loud", "log_level", "must be one of trace"),
        ("store:\n  synchronous: sometimes", "store.synchronous", "must be one of full, normal"),
        ("http: [127.0.0.1:1, 127.0.0.1:2]", "http", "expected one value"),
        ("udp_secret: abcd", "udp_secret", "must be hex of at least 16 bytes"),
    ])
    func badFileValue(yaml: String, key: String, message: String) throws {
        let error = try #require(Self.resolveError(yaml: yaml), "\(yaml) was accepted")
        #expect(error.key == key, "\(error)")
        #expect(error.description.contains("key '\(key)'") && error.description.contains(message), "\(error)")
        #expect(error.description.contains("/etc/hexfleet.yaml:"), "names the file and line: \(error)")
        #expect(!error.isFlagError)
    }

    @Test("a bad environment variable or flag names the variable or flag; flag errors are usage errors")
    func badEnvironmentOrFlag() throws {
        let fromEnvironment = try #require(Self.resolveError(environment: ["HEXFLEET_INDEX_RESOLUTION": "16"]))
        #expect(fromEnvironment.description.contains("HEXFLEET_INDEX_RESOLUTION") && fromEnvironment.description.contains("0…15"))
        #expect(!fromEnvironment.isFlagError)
        let fromFlag = try #require(Self.resolveError(flags: ["stale_after": ["0"]]))
        #expect(fromFlag.isFlagError && fromFlag.description.hasPrefix("--stale-after: "), "\(fromFlag)")
    }

    @Test("a secret's value never appears in an error about it")
    func secretNotInError() throws {
        let error = try #require(Self.resolveError(environment: ["HEXFLEET_TOKEN_SECRET": "not-hex-but-very-secret"]))
        #expect(error.key == "token_secret" && !error.description.contains("very-secret"), "\(error)")
    }

    @Test("files that are not a mapping of keys, or not YAML, or set a key twice, are errors naming the file")
    func malformedFiles() throws {
        for (yaml, expected) in [("- a\n- b\n", "a mapping of keys"), ("http: [1, 2\n", "not valid YAML"),
                                 ("store.group_commit: true\nstore:\n  group_commit: false\n", "set twice"),
                                 ("webhook:\n  urls:\n    - {a: 1}\n", "plain values"),
                                 ("http: 127.0.0.1:1\nhttp: 127.0.0.1:2\n", "set twice")] {
            do {
                _ = try Self.file(yaml)
                Issue.record("accepted: \(yaml)")
            } catch let error as ConfigurationError {
                #expect(error.description.contains("/etc/hexfleet.yaml") && error.description.contains(expected), "\(yaml): \(error)")
            }
        }
        let missing = Self.temporaryDirectory() + "/none.yaml"
        #expect(throws: ConfigurationError.self) { try ConfigFile.load(path: missing) }
    }

    @Test("--print-config prints every key with its layer, secrets redacted, and reads back as the same configuration")
    func printable() throws {
        let secret = String(repeating: "ab", count: 32)
        let c = try ServeConfiguration.resolve(flags: ["http": ["0.0.0.0:80"]],
                                               environment: ["HEXFLEET_UDP_SECRET": secret, "HEXFLEET_ADMIN_TOKEN": "sesame-open"],
                                               file: Self.file("demo_drivers: 12\nwebhook:\n  urls: [\"http://h:1/a b\"]\n"))
        let text = c.printable()
        #expect(!text.contains(secret) && !text.contains("sesame-open"), "\(text)")
        #expect(text.contains("udp_secret: <redacted>") && text.contains("admin_token: <redacted>"), "\(text)")
        #expect(text.contains("token_secret: ~"), "an unset secret shows as unset: \(text)")
        #expect(text.contains("http: \"0.0.0.0:80\"") && text.contains("# --http"), "\(text)")
        #expect(text.contains("# environment variable HEXFLEET_UDP_SECRET") && text.contains("# /etc/hexfleet.yaml:1"), "\(text)")
        for setting in ServeSettings.all { #expect(text.contains("\n\(setting.key): "), "\(setting.key) missing") }
        let unredacted = text.split(separator: "\n").filter { !$0.contains("<redacted>") }.joined(separator: "\n")
        let again = try ServeConfiguration.resolve(flags: [:], environment: [:], file: Self.file(unredacted))
        #expect(again.engine.httpPort == 80 && again.engine.demoDrivers == 12 && again.engine.webhookURLs == ["http://h:1/a b"])
    }

    @Test("every setting has a flag, a distinct key and variable, and a default its own parser accepts")
    func tableIsConsistent() throws {
        #expect(Set(ServeSettings.all.map(\.key)).count == ServeSettings.all.count)
        #expect(Set(ServeSettings.all.map(\.environmentVariable)).count == ServeSettings.all.count)
        for setting in ServeSettings.all {
            #expect(setting.flag?.hasPrefix("--") == true, "\(setting.key)")
            #expect(setting.helpText.contains(setting.environmentVariable) && setting.helpText.contains("default: "))
        }
        #expect(ServeSettings.setting("http")?.helpText.contains("default: 127.0.0.1:8080") == true)
        #expect(ServeSettings.setting("store.group_commit")?.environmentVariable == "HEXFLEET_STORE_GROUP_COMMIT")
    }

    @Test("the stacking round's hold lead and delay weight: defaults, a flag and the environment, out-of-range values named")
    func stackingPricing() throws {
        let defaults = try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil)
        #expect(defaults.engine.dispatchHoldLeadSeconds == 600 && defaults.engine.dispatchDelayWeight == 0.8)
        let set = try ServeConfiguration.resolve(flags: ["dispatch_delay_weight": ["0.25"]],
                                                 environment: ["HEXFLEET_DISPATCH_HOLD_LEAD_S": "86400"], file: nil)
        #expect(set.engine.dispatchHoldLeadSeconds == 86_400 && set.engine.dispatchDelayWeight == 0.25)
        for bad in ["-1", "11", "nan", "inf", "x"] {
            #expect(Self.resolveError(flags: ["dispatch_delay_weight": [bad]])?.key == "dispatch_delay_weight", "\(bad)")
        }
        #expect(Self.resolveError(flags: ["dispatch_hold_lead_s": ["86401"]])?.key == "dispatch_hold_lead_s")
    }

    @Test("HOST:PORT as users write it, IPv6 in brackets")
    func hostAndPort() {
        #expect(HostAndPort("127.0.0.1:8080")?.description == "127.0.0.1:8080")
        #expect(HostAndPort("[::1]:0").map { ($0.host, $0.port, $0.description) } ?? ("", -1, "") == ("::1", 0, "[::1]:0"))
        for bad in ["", ":80", "host", "host:", "host:65536", "host:-1"] { #expect(HostAndPort(bad) == nil, "\(bad)") }
    }

    // MARK: secrets

    static func demo(in directory: String?, configure: (inout ServeConfiguration) -> Void = { _ in }) throws -> ServeConfiguration {
        var c = try ServeConfiguration.resolve(flags: ["demo": ["true"]], environment: [:], file: nil)
        c.engine.dataDirectory = directory
        configure(&c)
        return c
    }

    @Test("secrets made for a data directory are kept in a 0600 file and the same ones come back at the next start")
    func secretsKeptAndReused() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DataDirectory.prepare(directory)
        var first = try Self.demo(in: directory)
        let made = try SecretsFile.complete(&first)
        #expect(made.generated == ["udp_secret", "token_secret", "admin_token"] && made.reused.isEmpty)
        #expect(first.engine.udpSecret.count == 32 && first.engine.tokenSecret.count == 32)
        let token = try #require(first.engine.adminToken)
        #expect(made.adminTokenToPrint == token && token.hasPrefix("hf-admin-"))
        let path = directory + "/secrets"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        var second = try Self.demo(in: directory)
        let again = try SecretsFile.complete(&second)
        #expect(again.reused == ["udp_secret", "token_secret", "admin_token"] && again.generated.isEmpty)
        #expect(second.engine.udpSecret == first.engine.udpSecret && second.engine.tokenSecret == first.engine.tokenSecret)
        #expect(second.engine.adminToken == token && again.adminTokenToPrint == token)
    }

    @Test("a configured secret wins over the kept one and is never written to the file")
    func configuredSecretNotWritten() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DataDirectory.prepare(directory)
        let configured = String(repeating: "5a", count: 24)
        var c = try ServeConfiguration.resolve(flags: ["demo": ["true"], "admin_token": ["configured-admin"]],
                                               environment: ["HEXFLEET_UDP_SECRET": configured], file: nil)
        c.engine.dataDirectory = directory
        let outcome = try SecretsFile.complete(&c)
        #expect(outcome.generated == ["token_secret"] && outcome.adminTokenToPrint == nil, "a configured token is never printed")
        #expect(c.engine.udpSecret == Array(repeating: 0x5a, count: 24) && c.engine.adminToken == "configured-admin")
        let text = try String(contentsOfFile: directory + "/secrets", encoding: .utf8)
        #expect(!text.contains(configured) && !text.contains("configured-admin") && text.contains("token_secret="), "\(text)")
    }

    @Test("without a data directory secrets are made for the run and no file is written; without demo no admin token")
    func noDataDirectory() throws {
        var c = try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil)
        let outcome = try SecretsFile.complete(&c)
        #expect(outcome.path == nil && outcome.generated == ["udp_secret", "token_secret"] && outcome.adminTokenToPrint == nil)
        #expect(c.engine.adminToken == nil && c.engine.udpSecret.count == 32)
    }

    @Test("a secrets file readable by others is tightened to 0600; a malformed stored secret stops the start")
    func widenedAndMalformedFiles() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DataDirectory.prepare(directory)
        let path = directory + "/secrets"
        let kept = String(repeating: "11", count: 32)
        try "udp_secret=\(kept)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        var c = try Self.demo(in: directory)
        let outcome = try SecretsFile.complete(&c)
        #expect(outcome.reused == ["udp_secret"] && c.engine.udpSecret == Array(repeating: 0x11, count: 32))
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        try "udp_secret=zz\n".write(toFile: path, atomically: false, encoding: .utf8)
        var broken = try Self.demo(in: directory)
        #expect(throws: ConfigurationError.self) { try SecretsFile.complete(&broken) }
    }

    // MARK: data directory

    @Test("the data directory is made with its parents; a file in the way is an error naming the path")
    func dataDirectory() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let deep = root + "/a/b/c"
        try DataDirectory.prepare(deep)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: deep, isDirectory: &isDirectory) && isDirectory.boolValue)
        try DataDirectory.prepare(deep)   // again: already there
        try "x".write(toFile: root + "/file", atomically: false, encoding: .utf8)
        do {
            try DataDirectory.prepare(root + "/file/sub")
            Issue.record("a directory under a file was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(root + "/file/sub") && error.description.contains("is not a directory"), "\(error)")
        }
        do {
            try DataDirectory.prepare("/proc/hexfleet-no-such/data")
            Issue.record("a directory under /proc was accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("/proc/hexfleet-no-such/data") && error.description.contains("cannot create"), "\(error)")
        }
    }
}

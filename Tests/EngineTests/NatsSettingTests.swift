import Engine
import Testing

/// `--nats URL[,URL…]` / `HEXFLEET_NATS` / `nats:` (docs/events.md).
@Suite struct NatsSettingTests {
    @Test("--nats takes comma-separated URLs or a repeated flag; host:port gets the nats:// scheme; none by default")
    func parses() throws {
        #expect(try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil).engine.natsServers.isEmpty)
        let flags = try ServeConfiguration.resolve(flags: ["nats": ["nats://127.0.0.1:4222,127.0.0.1:4223", "tls://h:4"]],
                                                   environment: [:], file: nil)
        #expect(flags.engine.natsServers == ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223", "tls://h:4"])
        let env = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_NATS": "a:1,b:2"], file: nil)
        #expect(env.engine.natsServers == ["nats://a:1", "nats://b:2"])
    }

    @Test("a URL of another scheme, an empty item or one with a path is refused, naming the key", arguments: [
        "http://127.0.0.1:4222", "nats://a:1,,nats://b:2", "nats://a:1/x", "nats://", "nats://a b:1",
    ])
    func refuses(value: String) {
        do {
            _ = try ServeConfiguration.resolve(flags: ["nats": [value]], environment: [:], file: nil)
            Issue.record("accepted \(value)")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("nats"), "\(error)")
        } catch {
            Issue.record("not a ConfigurationError: \(error)")
        }
    }
}

/// `--dispatch-stacking` / `--no-dispatch-stacking` / `HEXFLEET_DISPATCH_STACKING` (docs/dispatch.md).
@Suite struct DispatchStackingSettingTests {
    @Test("stacking is on by default; the flag and the environment turn it off; a non-boolean is refused naming the key")
    func parses() throws {
        #expect(try ServeConfiguration.resolve(flags: [:], environment: [:], file: nil).engine.dispatchStacking)
        let off = try ServeConfiguration.resolve(flags: ["dispatch_stacking": ["false"]], environment: [:], file: nil)
        #expect(!off.engine.dispatchStacking)
        let env = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_DISPATCH_STACKING": "false"], file: nil)
        #expect(!env.engine.dispatchStacking)
        #expect(throws: ConfigurationError.self) {
            _ = try ServeConfiguration.resolve(flags: [:], environment: ["HEXFLEET_DISPATCH_STACKING": "sometimes"], file: nil)
        }
    }
}

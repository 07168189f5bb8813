import Foundation
import Testing
import TestSupport

/// Webhook endpoints from the engine's settings (`EngineConfiguration.webhookURLs`, which `hexfleet serve` fills
/// from `HEXFLEET_WEBHOOK_URLS`): the transport speaks plain HTTP, so any other URL is refused at start.
@Suite struct WebhookConfigurationTests {
    /// What starting an engine with these webhook URLs threw, or nil when it started.
    static func startError(_ urls: [String]) -> String? {
        do {
            let engine = try TestEngine(configure: { $0.webhookURLs = urls })
            engine.close()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test("an https webhook URL fails engine start with invalid_config naming it by scheme and host, never its path")
    func httpsRefused() throws {
        let error = try #require(Self.startError(["http://127.0.0.1:9/hooks", "https://hooks.example.com/T0/secret-token?k=v"]),
                                 "an https endpoint every delivery would fail was accepted")
        #expect(error.hasPrefix("invalid_config:"), "\(error)")
        #expect(error.contains("https://hooks.example.com/…"), "names the URL: \(error)")
        #expect(error.contains("2 of 2") && error.contains("HEXFLEET_WEBHOOK_URLS"), "says which entry: \(error)")
        #expect(error.contains("https is not supported"), "says why: \(error)")
        #expect(!error.contains("secret-token") && !error.contains("k=v"), "a URL's path may hold the receiver's token: \(error)")
    }

    @Test("other schemes and malformed URLs are refused too; plain http URLs start", arguments: [
        ("ftp://files.example.com/in", "ftp://files.example.com/…"),
        ("http://hooks.example.com:0/x", "http://hooks.example.com:0/…"),
        ("http://user:pw@/x", "http:///…"),
        ("hooks.example.com/x", "hooks.example.com/x"),
    ])
    func otherRefused(url: String, shown: String) throws {
        let error = try #require(Self.startError([url]), "\(url) was accepted")
        #expect(error.hasPrefix("invalid_config:") && error.contains(shown) && error.contains("not an http://"), "\(error)")
        #expect(!error.contains("pw"), "user info is never shown: \(error)")
    }

    @Test("http URLs, with or without port and path, are accepted")
    func httpAccepted() {
        #expect(Self.startError(["http://127.0.0.1:9/hooks", "http://localhost", "http://hooks.example.com:8080/a/b?c=d"]) == nil)
    }
}

import Foundation
import Storage

extension Engine {
    /// Webhook endpoints for notifications, from `HEXFLEET_WEBHOOK_URLS` (comma-separated `http://` URLs);
    /// empty when unset. Read once, in `installOrders`.
    var webhookURLs: [String] {
        (ProcessInfo.processInfo.environment["HEXFLEET_WEBHOOK_URLS"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The webhook signing secret from `HEXFLEET_WEBHOOK_SECRET` (hex, or raw text when not hex); never logged.
    var webhookSecret: [UInt8]? {
        guard let text = ProcessInfo.processInfo.environment["HEXFLEET_WEBHOOK_SECRET"], !text.isEmpty else { return nil }
        return Hex.decode(text) ?? Array(text.utf8)
    }

    /// The store's write mode from `HEXFLEET_STORE_GROUP_COMMIT` (`0`/`off`: one transaction per order, the
    /// benchmark's baseline) and `HEXFLEET_STORE_SYNCHRONOUS` (`normal` or the default `full`).
    var storeConfiguration: StoreConfiguration {
        var c = StoreConfiguration()
        let env = ProcessInfo.processInfo.environment
        if let g = env["HEXFLEET_STORE_GROUP_COMMIT"]?.lowercased(), g == "0" || g == "off" || g == "false" { c.groupCommit = false }
        if env["HEXFLEET_STORE_SYNCHRONOUS"]?.lowercased() == "normal" { c.synchronous = .normal }
        return c
    }
}

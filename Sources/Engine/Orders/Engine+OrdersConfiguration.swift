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
        return Self.hexBytes(text) ?? Array(text.utf8)
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

    static func hexBytes(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard !u.isEmpty, u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

import Routing

/// One setting of `hexfleet serve`: its key in a config file, its flag, its environment variable, its default as a
/// user writes it, and how its text becomes part of a `ServeConfiguration`. The same parser reads a flag, a variable,
/// a file value and the default, so the four layers cannot disagree on what a value means.
public struct ServeSetting: Sendable {
    /// The key in a config file: lowercase words joined by `_`, sections by `.` (`store.group_commit`).
    public let key: String
    /// The command-line flag (`--store-group-commit`), or nil for a setting without one.
    public let flag: String?
    /// The default as a user would write it (`127.0.0.1:8080`); empty when the setting is unset by default.
    public let defaultItems: [String]
    /// What the default means when it is empty or not literal (`the tracking tick`), for help and docs.
    public let defaultNote: String?
    /// Printed as `<redacted>`, never logged, never written to disk by the configuration.
    public let isSecret: Bool
    /// Several values: a repeated flag, a YAML sequence, or a comma-separated environment variable.
    public let isList: Bool
    /// One line of meaning, for `--help` and docs/configuration.md.
    public let summary: String
    let apply: @Sendable (inout ServeConfiguration, SettingValue) throws -> Void

    /// `HEXFLEET_` and the key in capitals, dots and dashes as `_`: `store.group_commit` → `HEXFLEET_STORE_GROUP_COMMIT`.
    public var environmentVariable: String {
        "HEXFLEET_" + String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// The default as `--help` and the docs show it.
    public var defaultDescription: String {
        if let defaultNote { return defaultNote }
        return defaultItems.isEmpty ? "none" : defaultItems.joined(separator: ",")
    }

    /// `--help` text: the meaning, the default and the other places the setting can come from.
    public var helpText: String {
        "\(summary) (default: \(defaultDescription); env \(environmentVariable); config key \(key))"
    }

    /// A setting holding one value.
    static func scalar(_ key: String, _ flag: String?, _ defaultText: String?, note: String? = nil, secret: Bool = false,
                       _ summary: String, _ apply: @escaping @Sendable (inout ServeConfiguration, SettingValue) throws -> Void) -> ServeSetting {
        ServeSetting(key: key, flag: flag, defaultItems: defaultText.map { [$0] } ?? [], defaultNote: note, isSecret: secret,
                     isList: false, summary: summary, apply: apply)
    }

    /// A setting holding a list of values.
    static func list(_ key: String, _ flag: String?, _ defaults: [String] = [], note: String? = nil, secret: Bool = false,
                     _ summary: String, _ apply: @escaping @Sendable (inout ServeConfiguration, SettingValue) throws -> Void) -> ServeSetting {
        ServeSetting(key: key, flag: flag, defaultItems: defaults, defaultNote: note, isSecret: secret, isList: true,
                     summary: summary, apply: apply)
    }
}

/// A setting's value at one layer, as text, with where it came from; its readers throw a `ConfigurationError`
/// naming the key and the source.
public struct SettingValue: Sendable {
    /// The key it is the value of.
    public let key: String
    /// The text a user wrote: one item, or several for a list.
    public let items: [String]
    /// The layer it came from.
    public let source: SettingSource

    public init(key: String, items: [String], source: SettingSource) {
        self.key = key
        self.items = items
        self.source = source
    }

    func failure(_ message: String) -> ConfigurationError { ConfigurationError(key: key, source: source, message) }

    /// The one value of a scalar setting.
    public func text() throws -> String {
        guard items.count == 1, let only = items.first else { throw failure("expected one value, got a list of \(items.count)") }
        guard !only.isEmpty else { throw failure("expected a value, got an empty string") }
        return only
    }

    /// An integer within `range`.
    public func int(_ range: ClosedRange<Int>) throws -> Int {
        let t = try text()
        guard let n = Int(t.replacingOccurrences(of: "_", with: "")), range.contains(n) else {
            throw failure("must be an integer \(range.lowerBound)…\(range.upperBound), got \(quoted(t))")
        }
        return n
    }

    /// A finite decimal number within `range`.
    public func double(_ range: ClosedRange<Double>) throws -> Double {
        let t = try text()
        guard let x = Double(t), x.isFinite, range.contains(x) else {
            throw failure("must be a number \(range.lowerBound)…\(range.upperBound), got \(quoted(t))")
        }
        return x
    }

    /// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`; any case).
    public func bool() throws -> Bool {
        let t = try text()
        switch t.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw failure("must be true or false, got \(quoted(t))")
        }
    }

    /// One of a fixed set of words (as written in `choices`, any case).
    public func choice(_ choices: [String]) throws -> String {
        let t = try text()
        guard let match = choices.first(where: { $0 == t.lowercased() }) else {
            throw failure("must be one of \(choices.joined(separator: ", ")), got \(quoted(t))")
        }
        return match
    }

    /// `HOST:PORT`, the host in brackets for IPv6 (`[::1]:8080`); port 0 lets the system choose.
    public func hostPort() throws -> (host: String, port: Int) {
        let t = try text()
        guard let parsed = HostAndPort(t) else { throw failure("must be HOST:PORT (port 0…65535), got \(quoted(t))") }
        return (parsed.host, parsed.port)
    }

    /// A secret as hex of at least 16 bytes; the message never shows the value.
    public func hexSecret() throws -> [UInt8] {
        let t = try text()
        guard let bytes = PingKeys.parseHexSecret(t) else { throw failure("must be hex of at least 16 bytes") }
        return bytes
    }

    /// Graph files per profile: `car=FILE`, `bicycle=FILE`, … or a bare `FILE` for the car; each profile at most once.
    func profileGraphs() throws -> (car: String?, others: [RoutingProfile: String]) {
        var car: String?
        var others: [RoutingProfile: String] = [:]
        for item in items {
            var profile = RoutingProfile.car, path = item
            if let equals = item.firstIndex(of: "="), let named = RoutingProfile(name: String(item[..<equals])) {
                profile = named
                path = String(item[item.index(after: equals)...])
            }
            guard !path.isEmpty else { throw failure("expected a file after \(quoted(item))") }
            let taken = profile == .car ? car != nil : others[profile] != nil
            guard !taken else { throw failure("the \(profile.rawValue) graph is given twice") }
            if profile == .car { car = path } else { others[profile] = path }
        }
        return (car, others)
    }

    private func quoted(_ text: String) -> String { "\"\(text.prefix(80))\"" }
}

/// `HOST:PORT` as users write it: the CLI's flags and the config file share this parser.
public struct HostAndPort: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Parses `HOST:PORT` (`[v6]:PORT` for IPv6); nil for a missing host, a missing port or one past 65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    /// As a user writes it: `127.0.0.1:8080`, `[::1]:8080`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

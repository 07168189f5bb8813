import Foundation
import Logging

/// What `hexfleet serve` runs with, resolved from four layers, strongest first: command-line flags, environment
/// variables, a config file, the defaults of `ServeSettings`. Secrets not configured are left nil here and filled in
/// by `SecretsFile` (generated once, kept in the data directory).
public struct ServeConfiguration: Sendable {
    /// The engine's configuration; its secrets are empty until `SecretsFile.complete` fills them.
    public var engine = EngineConfiguration(udpSecret: [], tokenSecret: [])
    /// The configured UDP signing secret, if any.
    public var udpSecret: [UInt8]?
    /// The configured token signing secret, if any.
    public var tokenSecret: [UInt8]?
    /// The process's log level.
    public var logLevel: Logger.Level = .info
    /// Every setting with the value in force and where it came from, in table order (for `--print-config`).
    public private(set) var effective: [(setting: ServeSetting, value: SettingValue?)] = []

    public init() {}

    /// Resolves every setting of `ServeSettings.all`.
    /// - Parameters:
    ///   - flags: values given on the command line, by config key (only flags actually given).
    ///   - environment: the process environment; only `HEXFLEET_…` variables of known keys are read, and an empty
    ///     variable counts as unset.
    ///   - file: the parsed config file, if any; a key it holds that no setting has is an error.
    /// - Throws: `ConfigurationError` naming the key and the layer of the first bad value or unknown key.
    public static func resolve(flags: [String: [String]], environment: [String: String],
                               file: ConfigFile?) throws -> ServeConfiguration {
        if let file { try checkKeys(of: file) }
        var configuration = ServeConfiguration()
        for setting in ServeSettings.all {
            let value = layeredValue(of: setting, flags: flags, environment: environment, file: file)
            if let value {
                do { try setting.apply(&configuration, value) }
                catch let error as ConfigurationError { throw error }
                catch { throw value.failure("\(error)") }
            }
            configuration.effective.append((setting, value))
        }
        try ServeSettings.checkCluster(configuration)
        return configuration
    }

    private static func layeredValue(of setting: ServeSetting, flags: [String: [String]], environment: [String: String],
                                     file: ConfigFile?) -> SettingValue? {
        if let given = flags[setting.key], let flag = setting.flag {
            return SettingValue(key: setting.key, items: given, source: .flag(flag))
        }
        if let text = environment[setting.environmentVariable], !text.isEmpty {
            let items = setting.isList
                ? text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                : [text]
            return SettingValue(key: setting.key, items: items, source: .environment(setting.environmentVariable))
        }
        if let file, let entry = file.entries[setting.key] {
            return SettingValue(key: setting.key, items: entry.items, source: .file(path: file.path, line: entry.line))
        }
        if !setting.defaultItems.isEmpty {
            return SettingValue(key: setting.key, items: setting.defaultItems, source: .defaultValue)
        }
        return nil
    }

    /// Every key in the file must be a setting's: a misspelt key would otherwise be silently ignored.
    static func checkKeys(of file: ConfigFile) throws {
        let known = Set(ServeSettings.all.map(\.key))
        for (key, entry) in file.entries.sorted(by: { $0.value.line < $1.value.line }) where !known.contains(key) {
            let hint = closestKey(to: key).map { "; did you mean '\($0)'?" } ?? "; docs/configuration.md lists every key"
            throw ConfigurationError(key: key, source: .file(path: file.path, line: entry.line), "unknown key\(hint)")
        }
    }

    /// The known key nearest to a misspelt one (edit distance at most 3), if any.
    static func closestKey(to key: String) -> String? {
        let candidates = ServeSettings.all.map { ($0.key, editDistance(Array(key.utf8), Array($0.key.utf8))) }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The effective configuration as a YAML config file, secrets as `<redacted>`, each line commented with the
    /// layer its value came from; an unset key prints as `~`. Fed back as a file it gives the same configuration
    /// (redacted secrets aside).
    public func printable() -> String {
        var lines = ["# hexfleet serve: the effective configuration (flags > environment > config file > defaults)"]
        let rows: [(String, String)] = effective.map { setting, value in
            let shown: String
            if let value {
                if setting.isSecret { shown = "<redacted>" }
                else if setting.isList { shown = "[" + value.items.map(Self.yamlQuoted).joined(separator: ", ") + "]" }
                else { shown = Self.yamlScalar(value.items.first ?? "") }
            } else {
                shown = "~"
            }
            let origin = value.map { "\($0.source)" } ?? "not set: \(setting.defaultDescription)"
            return ("\(setting.key): \(shown)", origin)
        }
        let width = rows.map(\.0.count).max() ?? 0
        for (text, origin) in rows {
            lines.append(text.padding(toLength: width, withPad: " ", startingAt: 0) + "  # " + origin)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func yamlScalar(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._/@+-".unicodeScalars.contains($0)
        }
        return plain ? text : yamlQuoted(text)
    }

    private static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

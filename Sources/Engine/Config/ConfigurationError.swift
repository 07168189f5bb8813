/// Where a setting's value came from: the layers of `hexfleet serve`'s configuration, strongest first.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// A command-line flag, e.g. `--http`.
    case flag(String)
    /// An environment variable, e.g. `HEXFLEET_HTTP`.
    case environment(String)
    /// A key in a config file, at a line (1-based; 0 when unknown).
    case file(path: String, line: Int)
    /// The built-in default.
    case defaultValue

    public var description: String {
        switch self {
        case .flag(let flag): flag
        case .environment(let variable): "environment variable \(variable)"
        case .file(let path, let line): line > 0 ? "\(path):\(line)" : path
        case .defaultValue: "default"
        }
    }
}

/// A configuration `hexfleet serve` cannot run with: a bad value (naming its key and where it came from), an
/// unknown key in a config file, a file that is not YAML, or a data directory that cannot be made. Messages never
/// hold a secret's value.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The file key the error is about, if any (`udp_key_cache`).
    public let key: String?
    /// Where the offending value came from, if known.
    public let source: SettingSource?
    /// For people; may change between versions.
    public let message: String

    public init(key: String?, source: SettingSource?, _ message: String) {
        self.key = key
        self.source = source
        self.message = message
    }

    /// Whether the value came from a command-line flag (a usage error rather than a configuration error).
    public var isFlagError: Bool { if case .flag = source { true } else { false } }

    public var description: String {
        switch (key, source) {
        case (let key?, .file?): "\(source!): key '\(key)': \(message)"
        case (_, .flag(let flag)?): "\(flag): \(message)"
        case (let key?, let source?): "\(source) (key '\(key)'): \(message)"
        case (let key?, nil): "key '\(key)': \(message)"
        case (nil, let source?): "\(source): \(message)"
        case (nil, nil): message
        }
    }
}

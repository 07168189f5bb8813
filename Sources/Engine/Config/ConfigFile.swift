import Foundation
import Yams

/// A `hexfleet serve` config file (YAML; JSON is YAML too) read as flat keys: nested mappings join with dots, so
/// `store: {group_commit: false}` and `store.group_commit: false` are the same key. Values stay text, as written:
/// each setting parses its own (`ServeSetting`), so `on` or `0755` mean what the setting says, not what YAML 1.1 guesses.
/// A sequence is a list; a null (`~`, or nothing after the colon) leaves the key unset.
public struct ConfigFile: Sendable {
    /// One key's value and the line it is on.
    public struct Entry: Sendable, Equatable {
        public var items: [String]
        public var isList: Bool
        public var line: Int
    }

    /// The file's path, as given (for messages).
    public let path: String
    /// Values by flat key.
    public let entries: [String: Entry]

    /// Reads and parses the file at `path`.
    /// - Throws: `ConfigurationError` when it cannot be read or is not a mapping of known shapes.
    public static func load(path: String) throws -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "no such file"
            throw ConfigurationError(key: nil, source: .file(path: path, line: 0), "config file \(reason)")
        }
        return try ConfigFile(yaml: text, path: path)
    }

    /// Parses YAML text; `path` only names it in errors.
    public init(yaml: String, path: String) throws {
        self.path = path
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error, path: path)
        }
        guard let root else { entries = [:]; return }   // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError(key: nil, source: .file(path: path, line: root.mark?.line ?? 0),
                                     "a config file is a mapping of keys to values (key: value)")
        }
        var entries: [String: Entry] = [:]
        try Self.flatten(mapping, prefix: "", path: path, into: &entries)
        self.entries = entries
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: String, path: String, into entries: inout [String: Entry]) throws {
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard case .scalar(let keyScalar) = keyNode, !keyScalar.string.isEmpty else {
                throw ConfigurationError(key: nil, source: .file(path: path, line: line), "keys must be plain words")
            }
            let key = prefix + keyScalar.string
            switch value {
            case .mapping(let nested):
                try flatten(nested, prefix: key + ".", path: path, into: &entries)
                continue
            case .scalar(let scalar):
                if value.null != nil && scalar.style == .plain { continue }   // `key: ~` or `key:` leaves it unset
                try add(key, Entry(items: [scalar.string], isList: false, line: line), path: path, into: &entries)
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard case .scalar(let scalar) = item else {
                        throw ConfigurationError(key: key, source: .file(path: path, line: item.mark?.line ?? line),
                                                 "a list holds plain values, not lists or mappings")
                    }
                    items.append(scalar.string)
                }
                try add(key, Entry(items: items, isList: true, line: line), path: path, into: &entries)
            case .alias:
                throw ConfigurationError(key: key, source: .file(path: path, line: line), "YAML aliases are not supported")
            }
        }
    }

    private static func add(_ key: String, _ entry: Entry, path: String, into entries: inout [String: Entry]) throws {
        if let earlier = entries[key] {
            throw ConfigurationError(key: key, source: .file(path: path, line: entry.line),
                                     "set twice (first on line \(earlier.line))")
        }
        entries[key] = entry
    }

    /// Yams' own description quotes the offending line, which may hold a secret: say where, and the problem only.
    private static func syntaxError(_ error: YamlError, path: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigurationError(key: nil, source: .file(path: path, line: mark.line),
                                      "not valid YAML: \(problem) (column \(mark.column))")
        case .duplicatedKeysInMapping(let duplicates, _):
            return ConfigurationError(key: duplicates.sorted().first, source: .file(path: path, line: 0), "set twice")
        case .reader(let problem, _, _, _):
            return ConfigurationError(key: nil, source: .file(path: path, line: 0), "not valid YAML: \(problem)")
        default:
            return ConfigurationError(key: nil, source: .file(path: path, line: 0), "not valid YAML")
        }
    }
}

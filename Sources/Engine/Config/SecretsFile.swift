import Foundation
import Logging

/// Secrets the engine made because none was configured (UDP secret, token secret, the demo's admin token), kept in
/// `<data dir>/secrets` (mode 0600, `key=value` lines) and reused on the next start, so the UDP keys and tokens
/// handed out keep working across restarts. A configured secret always wins and is never written here. Without a
/// data directory the made secrets last for the run only (the store is temporary then too), and a warning says so.
public enum SecretsFile {
    /// The file's name inside the data directory.
    public static let fileName = "secrets"

    /// What `complete` did.
    public struct Outcome: Sendable, Equatable {
        /// Keys made now.
        public var generated: [String] = []
        /// Keys read back from the file.
        public var reused: [String] = []
        /// The file, when there is a data directory.
        public var path: String?
        /// The admin token to show the operator: made or reused here, never a configured one.
        public var adminTokenToPrint: String?
    }

    /// Fills the secrets `configuration` lacks (`udpSecret`, `tokenSecret`, and in demo mode `admin_token`) into
    /// `configuration.engine`, from the data directory's file or newly made, and writes back what it made.
    /// The data directory must exist (`DataDirectory.prepare`).
    /// - Throws: `ConfigurationError` when the file holds a malformed secret or cannot be written.
    @discardableResult
    public static func complete(_ configuration: inout ServeConfiguration,
                                logger: Logger = Logger(label: "hexfleet.serve")) throws -> Outcome {
        var outcome = Outcome()
        var needed: [String] = []
        if configuration.udpSecret == nil { needed.append("udp_secret") }
        if configuration.tokenSecret == nil { needed.append("token_secret") }
        if configuration.engine.demo && configuration.engine.adminToken == nil { needed.append("admin_token") }
        var stored: [(key: String, value: String)] = []
        if let directory = configuration.engine.dataDirectory, !needed.isEmpty {
            let path = directory + "/" + fileName
            outcome.path = path
            stored = try read(path, logger: logger)
        }
        var values: [String: String] = [:]
        for key in needed {
            if let kept = stored.first(where: { $0.key == key })?.value {
                values[key] = kept
                outcome.reused.append(key)
            } else {
                values[key] = key == "admin_token" ? "hf-admin-" + randomHex(16) : randomHex(32)
                outcome.generated.append(key)
                stored.append((key, values[key]!))
            }
        }
        let source = outcome.path ?? "(generated)"
        if let hex = values["udp_secret"] {
            guard let bytes = PingKeys.parseHexSecret(hex) else { throw malformed("udp_secret", source) }
            configuration.engine.udpSecret = bytes
        } else {
            configuration.engine.udpSecret = configuration.udpSecret ?? []
        }
        if let hex = values["token_secret"] {
            guard let bytes = PingKeys.parseHexSecret(hex) else { throw malformed("token_secret", source) }
            configuration.engine.tokenSecret = bytes
        } else {
            configuration.engine.tokenSecret = configuration.tokenSecret ?? []
        }
        if let token = values["admin_token"] {
            guard !token.isEmpty else { throw malformed("admin_token", source) }
            configuration.engine.adminToken = token
            outcome.adminTokenToPrint = token
        }
        if let path = outcome.path {
            if !outcome.reused.isEmpty {
                logger.info("reusing secrets kept from an earlier start", metadata: [
                    "path": "\(path)", "keys": "\(outcome.reused.joined(separator: ","))"])
            }
            if !outcome.generated.isEmpty {
                try write(stored, to: path)
                logger.info("generated secrets kept for the next start (mode 0600)", metadata: [
                    "path": "\(path)", "keys": "\(outcome.generated.joined(separator: ","))"])
            }
        } else if !outcome.generated.isEmpty {
            logger.warning("no data directory: generated secrets last for this run only; tokens and UDP keys handed out stop working at restart (--data keeps them)",
                           metadata: ["keys": "\(outcome.generated.joined(separator: ","))"])
        }
        return outcome
    }

    /// The file's `key=value` lines (none when it does not exist); tightens its mode to 0600 if it was wider.
    static func read(_ path: String, logger: Logger) throws -> [(key: String, value: String)] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            logger.warning("secrets file readable by others; setting its mode to 0600", metadata: ["path": "\(path)"])
            chmod(path, 0o600)
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(key: nil, source: .file(path: path, line: 0), "secrets file cannot be read")
        }
        var pairs: [(key: String, value: String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError(key: nil, source: .file(path: path, line: number + 1), "expected key=value")
            }
            pairs.append((String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...])))
        }
        return pairs
    }

    /// Writes a new file beside the old one with mode 0600 from its creation, then renames it over the old one.
    static func write(_ pairs: [(key: String, value: String)], to path: String) throws {
        var text = "# Secrets hexfleet serve generated because none was configured; reused at every start.\n"
        text += "# Configure them instead (--udp-secret, --token-secret, --admin-token) and this file is not read.\n"
        for (key, value) in pairs { text += "\(key)=\(value)\n" }
        let temporary = path + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw writeFailure(path, String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw writeFailure(path, reason)
        }
    }

    private static func writeFailure(_ path: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(key: nil, source: .file(path: path, line: 0), "cannot write the secrets file: \(reason)")
    }

    private static func malformed(_ key: String, _ path: String) -> ConfigurationError {
        ConfigurationError(key: key, source: .file(path: path, line: 0),
                           "stored secret is malformed; fix or delete its line (tokens and UDP keys made with it stop working)")
    }

    private static func randomHex(_ byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

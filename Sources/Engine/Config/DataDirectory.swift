import Foundation

/// The data directory (`--data`): made with its parents before anything writes into it, or a clear error naming
/// the path and the reason.
public enum DataDirectory {
    /// Makes `path` and any missing parents, then checks it is a directory this process can write.
    /// - Throws: `ConfigurationError` naming the path and the operating system's reason.
    public static func prepare(_ path: String) throws {
        guard !path.isEmpty else { throw failure(path, "the path is empty") }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var prefix = ""
        for component in absolute.split(separator: "/") {
            prefix += "/" + component
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw failure(path, "\(prefix) exists and is not a directory") }
                continue
            }
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                throw failure(path, prefix == absolute ? reason : "cannot create \(prefix): \(reason)")
            }
        }
        guard access(absolute, W_OK | X_OK) == 0 else { throw failure(path, String(cString: strerror(errno))) }
    }

    private static func failure(_ path: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(key: nil, source: nil, "cannot use data directory \(path): \(reason)")
    }
}

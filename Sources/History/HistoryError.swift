#if canImport(Glibc)
import Glibc
#endif

/// A failure of the position log's files: which operation, on which path, and the system's reason.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(_ operation: String, _ path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// True when the file system is out of space (the service counts these apart from other failures).
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

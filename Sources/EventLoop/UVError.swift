import CLibUV

/// A libuv failure: the negative errno libuv returned, with its symbolic name (`EADDRINUSE`) and message.
///
/// Match on ``code`` (`error.code == UVError.addressInUse.code`) rather than on the message, which is for people.
public struct UVError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The negative errno value libuv returned (for example `UV_EADDRINUSE`).
    public let code: Int32
    /// What the wrapper was doing when libuv failed (`"uv_udp_bind"`), for logs.
    public let operation: String

    /// Wraps a libuv return code.
    public init(code: Int32, operation: String = "") {
        self.code = code
        self.operation = operation
    }

    /// libuv's symbolic name for the code, such as `EADDRINUSE`.
    public var name: String { String(cString: uv_err_name(code)) }

    /// libuv's message for the code, such as "address already in use".
    public var message: String { String(cString: uv_strerror(code)) }

    public var description: String {
        operation.isEmpty ? "\(name): \(message)" : "\(operation): \(name): \(message)"
    }

    /// Returns `rc` when it is not negative, else throws it as a `UVError`.
    @discardableResult
    @inline(__always)
    public static func check(_ rc: Int32, _ operation: @autoclosure () -> String = "") throws(UVError) -> Int32 {
        if rc < 0 { throw UVError(code: rc, operation: operation()) }
        return rc
    }

    // Codes callers match on. Compare `code`, since `operation` differs per call site.
    /// `EADDRINUSE`.
    public static let addressInUse = UVError(code: UV_EADDRINUSE.rawValue)
    /// `EAGAIN`: the operation would block.
    public static let wouldBlock = UVError(code: UV_EAGAIN.rawValue)
    /// `EBADF`: the handle is closed or closing.
    public static let badHandle = UVError(code: UV_EBADF.rawValue)
    /// `EINVAL`: an argument libuv rejected, such as an unparsable address.
    public static let invalidArgument = UVError(code: UV_EINVAL.rawValue)
    /// `EOF`: the peer closed its side of the stream.
    public static let endOfFile = UVError(code: UV_EOF.rawValue)
    /// `ECANCELED`: the request was cancelled, usually because its handle closed.
    public static let cancelled = UVError(code: UV_ECANCELED.rawValue)
}

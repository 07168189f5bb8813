/// An error from the Routing module: a stable `code` to match on and a message for people.
///
/// Codes are a struct over a private enum, so adding a code breaks no caller's `switch`.
public struct RoutingError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, matchable with `==` or `~=`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Raw: String, Sendable { case io, truncated, badProtobuf, badCompression, unsupported, badMagic, badVersion, corrupt, badInput, noRoad }
        private let raw: Raw
        private init(_ raw: Raw) { self.raw = raw }
        /// The file could not be opened, read, written or mapped.
        public static let io = Code(.io)
        /// The input ended inside a record.
        public static let truncated = Code(.truncated)
        /// A protobuf message is malformed.
        public static let badProtobuf = Code(.badProtobuf)
        /// A compressed blob did not inflate.
        public static let badCompression = Code(.badCompression)
        /// The file uses a feature this reader does not implement (e.g. LZMA blobs).
        public static let unsupported = Code(.unsupported)
        /// A graph file does not start with the expected magic bytes.
        public static let badMagic = Code(.badMagic)
        /// A graph file has a format version this build does not read.
        public static let badVersion = Code(.badVersion)
        /// A graph file's sections are inconsistent (sizes, offsets, indices).
        public static let corrupt = Code(.corrupt)
        /// A caller's input (a CSV line, a coordinate, a node index) is invalid.
        public static let badInput = Code(.badInput)
        /// No routable road is near a coordinate.
        public static let noRoad = Code(.noRoad)
        public var description: String { raw.rawValue }
        public static func ~= (pattern: Code, error: any Error) -> Bool { (error as? RoutingError)?.code == pattern }
    }

    /// The error's code.
    public let code: Code
    /// A human-readable explanation.
    public let message: String

    /// An error with a code and message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

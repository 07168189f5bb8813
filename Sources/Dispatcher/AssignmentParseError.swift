/// A malformed instance file: the 1-based line and what is wrong there.
public struct AssignmentParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// What is wrong.
    public let message: String
    /// An error at `line`.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

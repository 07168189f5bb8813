/// Why a JSON text was rejected, with the byte offset where the reader stopped.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: String, Sendable {
        case unexpectedEnd = "unexpected end of input"
        case unexpectedByte = "unexpected character"
        case invalidNumber = "invalid number"
        case invalidString = "invalid string"
        case invalidEscape = "invalid escape sequence"
        case invalidUTF8 = "invalid UTF-8"
        case tooDeep = "nesting too deep"
        case trailingData = "unexpected data after the value"
    }
    /// What went wrong.
    public let reason: Reason
    /// The byte offset in the input.
    public let offset: Int

    public var description: String { "\(reason.rawValue) at byte \(offset)" }
}

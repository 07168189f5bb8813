/// A JSON number as written, with exact integer and double views.
public struct JSONNumber: Sendable, Hashable {
    /// The number's text, validated against the JSON grammar.
    public let text: String

    /// A number from text the caller vouches is a JSON number (the reader's output, a ``JSONWriter``'s bytes).
    public init(text: String) { self.text = text }

    /// The number for a double, in shortest round-trip form (non-finite becomes 0: JSON has no spelling for it).
    public init(_ value: Double) {
        var w = JSONWriter(capacity: 32)
        w.number(value.isFinite ? value : 0)
        text = String(decoding: w.bytes, as: UTF8.self)
    }

    /// The number for an integer.
    public init<I: BinaryInteger>(_ value: I) { text = String(value) }
    /// The nearest double.
    public var double: Double { Double(text) ?? .nan }
    /// The exact value when the text is an integer that fits Int64.
    public var int64: Int64? { Int64(text) }
    /// The exact value when the text is a non-negative integer that fits UInt64.
    public var uint64: UInt64? { UInt64(text) }
}

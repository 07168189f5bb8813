/// An order identifier, as Marketplace assigns it.
public struct OrderID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw number, as on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: OrderID, b: OrderID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "order \(rawValue)" }
}

/// A customer's identity, as issued by the auth layer.
public struct CustomerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CustomerID, b: CustomerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

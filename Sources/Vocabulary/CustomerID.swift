/// A customer's identity, as issued by the auth layer.
public struct CustomerID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: CustomerID, b: CustomerID) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func == (a: CustomerID, b: CustomerID) -> Bool { a.rawValue == b.rawValue }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { String(rawValue) }
}

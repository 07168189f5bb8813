/// An order's identity, assigned by the store when the order is first written.
public struct OrderID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number; no validation (any value names a possibly missing order).
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: OrderID, b: OrderID) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func == (a: OrderID, b: OrderID) -> Bool { a.rawValue == b.rawValue }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { String(rawValue) }
}

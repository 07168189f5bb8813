/// An order's identity, assigned by the store when the order is first written (SQLite rowid).
public struct OrderID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number; no validation (any value names a possibly missing order).
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number (RawRepresentable, the same shape as the Dispatcher's ids).
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: OrderID, b: OrderID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

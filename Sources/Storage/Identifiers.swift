// Identities of the marketplace. Each wraps a UInt64 so that one kind of id
// passed where another is expected does not compile (STYLE.md §3).

/// An order's identity, assigned by the store when the order is first written (SQLite rowid).
public struct OrderID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number; no validation (any value names a possibly missing order).
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: OrderID, b: OrderID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A customer's identity, as issued by the auth layer.
public struct CustomerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CustomerID, b: CustomerID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A courier's identity: the same number as the driver id in pings (DESIGN.md, UDP datagram).
public struct CourierID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CourierID, b: CourierID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A durable webhook delivery's identity (SQLite rowid).
public struct WebhookDeliveryID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number.
    public let rawValue: Int64
    /// Wraps a raw number.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (a: WebhookDeliveryID, b: WebhookDeliveryID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

extension UInt64 {
    /// The SQLite column value for an unsigned id: the same 64 bits as a signed integer,
    /// so every UInt64 round-trips (SQLite integers are signed).
    @inline(__always) var sqlValue: Int64 { Int64(bitPattern: self) }
}

extension Int64 {
    /// The unsigned id stored in a column by `UInt64.sqlValue`.
    @inline(__always) var unsignedID: UInt64 { UInt64(bitPattern: self) }
}

/// A driver's identity as it appears on the wire (u64 in every ping record).
public struct DriverID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw number, as on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number.
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: DriverID, b: DriverID) -> Bool { a.rawValue < b.rawValue }
    // Spelled out (not synthesized) and inlinable: the live table and ingest compare and hash ids across the module
    // line on every ping, where a synthesized conformance would be an opaque call.
    @inlinable public static func == (a: DriverID, b: DriverID) -> Bool { a.rawValue == b.rawValue }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { String(rawValue) }
}

/// A courier is a driver seen by dispatch and orders: the same number as the driver id in pings (DESIGN.md, UDP
/// datagram), so the same type under the name those modules speak.
public typealias CourierID = DriverID

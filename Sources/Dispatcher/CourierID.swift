/// A courier (driver) identifier, the u64 driver id of the ping protocol.
public struct CourierID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The raw number, as on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CourierID, b: CourierID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "courier \(rawValue)" }
}

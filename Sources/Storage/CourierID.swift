/// A courier's identity: the same number as the driver id in pings (DESIGN.md, UDP datagram).
public struct CourierID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The raw number, as shown on the wire.
    public let rawValue: UInt64
    /// Wraps a raw number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a raw number (RawRepresentable, the same shape as the Dispatcher's ids).
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CourierID, b: CourierID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

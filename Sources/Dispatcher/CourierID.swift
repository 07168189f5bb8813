/// A courier (driver) identifier, the u64 driver id of the ping protocol.
public struct CourierID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: CourierID, b: CourierID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "courier \(rawValue)" }
}

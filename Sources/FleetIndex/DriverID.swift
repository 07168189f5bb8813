/// A driver's identity as it appears on the wire (u64 in every ping record).
public struct DriverID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: DriverID, b: DriverID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A dense row number in the `DriverTable`. Rows move when others are evicted, so never keep one
/// across mutations; `DriverID` is the stable name.
public struct DriverSlot: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The "no slot" sentinel.
    public static let invalid = DriverSlot(rawValue: .max)
}

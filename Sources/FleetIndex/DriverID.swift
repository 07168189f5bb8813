import Vocabulary

/// A dense row number in the `DriverTable`. Rows move when others are evicted, so never keep one
/// across mutations; `DriverID` is the stable name.
public struct DriverSlot: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The "no slot" sentinel.
    public static let invalid = DriverSlot(rawValue: .max)
}

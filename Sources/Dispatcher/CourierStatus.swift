/// A courier's working state, with the same codes as byte 30 of a ping record
/// (FleetIndex's `DriverStatus`; the Engine maps one to the other by raw value).
public enum CourierStatus: UInt8, CaseIterable, Sendable {
    case offline = 0
    case available = 1
    case toPickup = 2
    case onTrip = 3
    case onBreak = 4
}

/// A set of courier statuses, for candidate filters.
public struct CourierStatusSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The set holding just `status`.
    public init(_ status: CourierStatus) { self.rawValue = 1 << status.rawValue }
    /// Only couriers free to take an order.
    public static let available = CourierStatusSet(.available)
    /// Every status.
    public static let all = CourierStatusSet(rawValue: 0x1F)
    /// Whether the set holds `status`.
    public func contains(_ status: CourierStatus) -> Bool { rawValue & (1 << status.rawValue) != 0 }
}

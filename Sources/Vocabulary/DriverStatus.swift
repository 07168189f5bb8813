/// A driver's working state, as carried in byte 30 of a ping record and named in JSON.
public enum DriverStatus: UInt8, CaseIterable, Sendable {
    case offline = 0
    case available = 1
    case toPickup = 2
    case onTrip = 3
    case onBreak = 4

    // Spelled out and inlinable: every ping and every row read converts a status byte across the module line.
    /// The status with a wire code (byte 30 of a ping record), or nil.
    @inlinable public init?(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .offline
        case 1: self = .available
        case 2: self = .toPickup
        case 3: self = .onTrip
        case 4: self = .onBreak
        default: return nil
        }
    }

    /// The wire code.
    @inlinable public var rawValue: UInt8 {
        switch self {
        case .offline: 0
        case .available: 1
        case .toPickup: 2
        case .onTrip: 3
        case .onBreak: 4
        }
    }

    /// The wire name used in JSON (`offline`, `available`, `to_pickup`, `on_trip`, `break`).
    public var name: String {
        switch self {
        case .offline: "offline"
        case .available: "available"
        case .toPickup: "to_pickup"
        case .onTrip: "on_trip"
        case .onBreak: "break"
        }
    }

    /// The status with a wire name, or nil.
    public init?(name: String) {
        switch name {
        case "offline": self = .offline
        case "available": self = .available
        case "to_pickup": self = .toPickup
        case "on_trip": self = .onTrip
        case "break": self = .onBreak
        default: return nil
        }
    }
}

/// A set of statuses, one bit each, for query and candidate filters.
public struct StatusFilter: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The set holding just `status`.
    @inlinable public init(_ status: DriverStatus) { self.rawValue = 1 << status.rawValue }
    /// Every status.
    public static let all = StatusFilter(rawValue: 0x1F)
    /// Only drivers free to take an order.
    public static let available = StatusFilter(.available)
    /// Whether the set holds `status`.
    @inlinable public func contains(_ status: DriverStatus) -> Bool { rawValue & (1 << status.rawValue) != 0 }
    /// Whether the set holds `status`.
    @inlinable public func admits(_ status: UInt8) -> Bool { rawValue & (1 << (status & 7)) != 0 }
}

/// What a courier drives; orders may restrict which vehicles can carry them.
public enum VehicleType: UInt8, CaseIterable, Sendable {
    case bicycle = 0
    case scooter = 1
    case car = 2
    case van = 3
}

/// A set of vehicle types, for order restrictions and candidate filters.
public struct VehicleSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The set holding just `vehicle`.
    public init(_ vehicle: VehicleType) { self.rawValue = 1 << vehicle.rawValue }
    /// Every vehicle type.
    public static let all = VehicleSet(rawValue: 0x0F)
    /// Whether the set holds `vehicle`.
    public func contains(_ vehicle: VehicleType) -> Bool { rawValue & (1 << vehicle.rawValue) != 0 }
}

import HexGeo

/// Road distance and time between two points, as the router computes them.
public struct RouteCost: Sendable, Equatable {
    /// Metres along the road.
    public var distanceMeters: Int64
    /// Seconds of driving.
    public var durationSeconds: Int64

    /// A cost; negative values are refused by the pricer (`invalid_input`).
    public init(distanceMeters: Int64, durationSeconds: Int64) {
        self.distanceMeters = distanceMeters
        self.durationSeconds = durationSeconds
    }
}

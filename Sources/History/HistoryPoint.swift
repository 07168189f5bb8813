import Vocabulary

/// One accepted ping as the position history keeps it: exactly the fields the history endpoints answer.
public struct HistoryPoint: Sendable, Equatable {
    public var driver: DriverID
    /// Time of the fix, milliseconds since the Unix epoch (the ping's own timestamp).
    public var timestampMs: Int64
    /// Latitude × 1e7, as on the wire (so a point read back equals the ping exactly).
    public var latE7: Int32
    /// Longitude × 1e7, as on the wire.
    public var lngE7: Int32
    public var speedCmPerSecond: UInt16
    public var status: DriverStatus

    public init(driver: DriverID, timestampMs: Int64, latE7: Int32, lngE7: Int32, speedCmPerSecond: UInt16,
                status: DriverStatus) {
        self.driver = driver
        self.timestampMs = timestampMs
        self.latE7 = latE7
        self.lngE7 = lngE7
        self.speedCmPerSecond = speedCmPerSecond
        self.status = status
    }

    /// The position in radians, for distances.
    public var position: LatLng { LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7) }
}

import HexGeo
import Vocabulary

/// One driver's latest accepted state, as read out of the table (a copy of its row).
public struct DriverState: Sendable, Equatable {
    public var id: DriverID
    /// Latitude × 1e7, as on the wire.
    public var latE7: Int32
    /// Longitude × 1e7, as on the wire.
    public var lngE7: Int32
    /// Time of the fix, milliseconds since the Unix epoch.
    public var timestampMs: Int64
    public var speedCmPerSecond: UInt16
    /// Centidegrees 0…35999, 65535 = unknown.
    public var headingCentidegrees: UInt16
    /// Decimetres, 65535 = unknown.
    public var accuracyDecimetres: UInt16
    public var status: DriverStatus

    public init(id: DriverID, latE7: Int32, lngE7: Int32, timestampMs: Int64, speedCmPerSecond: UInt16 = 0,
                headingCentidegrees: UInt16 = 65535, accuracyDecimetres: UInt16 = 65535, status: DriverStatus) {
        self.id = id
        self.latE7 = latE7
        self.lngE7 = lngE7
        self.timestampMs = timestampMs
        self.speedCmPerSecond = speedCmPerSecond
        self.headingCentidegrees = headingCentidegrees
        self.accuracyDecimetres = accuracyDecimetres
        self.status = status
    }

    /// Latitude in degrees.
    @inlinable public var latDegrees: Double { Double(latE7) / 1e7 }
    /// Longitude in degrees.
    @inlinable public var lngDegrees: Double { Double(lngE7) / 1e7 }
    /// The position as a point.
    @inlinable public var position: LatLng { LatLng(degrees: latDegrees, lngDegrees) }
}

/// One query answer: a driver and its great-circle distance from the query point.
public struct NearbyDriver: Sendable, Equatable {
    public var state: DriverState
    /// Great-circle distance on the sphere of radius 6,371,008.8 m.
    public var distanceMeters: Double
}

/// Where a driver was before an accepted fix (degrees × 1e7), or `none` for a driver the table did not hold.
public struct PreviousFix: Sendable, Equatable {
    public var latE7: Int32
    public var lngE7: Int32

    public init(latE7: Int32, lngE7: Int32) {
        self.latE7 = latE7
        self.lngE7 = lngE7
    }

    /// No previous fix: the driver is new to the table (since start, or since the stale sweep evicted it).
    public static let none = PreviousFix(latE7: Int32.min, lngE7: Int32.min)

    /// Whether there was a previous fix (a real latitude is never `Int32.min`).
    @inlinable public var isKnown: Bool { latE7 != Int32.min }
}

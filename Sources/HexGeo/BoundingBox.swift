import Foundation
import Vocabulary

/// A latitude/longitude box in radians; `east < west` means it crosses the antimeridian (as in H3's `BBox`).
public struct BoundingBox: Hashable, Sendable {
    /// Northern and southern latitude bounds, radians.
    public var north: Double, south: Double
    /// Eastern and western longitude bounds, radians.
    public var east: Double, west: Double

    /// A box from its four bounds (radians).
    @inlinable
    public init(north: Double, south: Double, east: Double, west: Double) {
        self.north = north; self.south = south; self.east = east; self.west = west
    }

    /// The smallest box around a loop, crossing the antimeridian when two consecutive vertices are
    /// more than π apart in longitude (H3's `bboxFromGeoLoop`; loops around a pole are not supported).
    public init(loop: [LatLng]) {
        guard !loop.isEmpty else { self.init(north: 0, south: 0, east: 0, west: 0); return }
        var south = Double.greatestFiniteMagnitude, west = Double.greatestFiniteMagnitude
        var north = -Double.greatestFiniteMagnitude, east = -Double.greatestFiniteMagnitude
        var minPosLng = Double.greatestFiniteMagnitude, maxNegLng = -Double.greatestFiniteMagnitude
        var transmeridian = false
        for (n, p) in loop.enumerated() {
            let next = loop[(n + 1) % loop.count]
            south = min(south, p.lat); north = max(north, p.lat)
            west = min(west, p.lng); east = max(east, p.lng)
            if p.lng > 0 && p.lng < minPosLng { minPosLng = p.lng }
            if p.lng < 0 && p.lng > maxNegLng { maxNegLng = p.lng }
            if abs(p.lng - next.lng) > Double.pi { transmeridian = true }
        }
        if transmeridian { east = maxNegLng; west = minPosLng }
        self.init(north: north, south: south, east: east, west: west)
    }

    /// The smallest box holding every point within `radiusMeters` of `center` on the sphere of
    /// `Geodesy.earthRadiusMeters`; it spans all longitudes when the circle reaches a pole.
    public init(around center: LatLng, radiusMeters: Double) {
        let delta = max(0, radiusMeters) / Geodesy.earthRadiusMeters
        let north = center.lat + delta, south = center.lat - delta
        if north >= Double.pi / 2 || south <= -Double.pi / 2 || delta >= Double.pi / 2 {
            self.init(north: min(north, Double.pi / 2), south: max(south, -Double.pi / 2), east: Double.pi, west: -Double.pi)
            return
        }
        // Widest longitude reach of a small circle: asin(sin δ / cos φ).
        let dLng = asin(min(1, sin(delta) / cos(center.lat)))
        var east = center.lng + dLng, west = center.lng - dLng
        if east > Double.pi { east -= 2 * Double.pi }
        if west < -Double.pi { west += 2 * Double.pi }
        self.init(north: north, south: south, east: east, west: west)
    }

    /// Whether the box crosses the antimeridian.
    @inlinable public var isTransmeridian: Bool { east < west }

    /// Longitude span in radians (accounting for the antimeridian).
    @inlinable
    public var widthRadians: Double { isTransmeridian ? east - west + 2 * Double.pi : east - west }

    /// Latitude span in radians.
    @inlinable public var heightRadians: Double { north - south }

    /// Whether `p` lies inside or on the box.
    @inlinable
    public func contains(_ p: LatLng) -> Bool {
        p.lat >= south && p.lat <= north
            && (isTransmeridian ? (p.lng >= west || p.lng <= east) : (p.lng >= west && p.lng <= east))
    }

    /// Whether two boxes share any point.
    public func intersects(_ o: BoundingBox) -> Bool {
        guard north >= o.south && o.north >= south else { return false }
        func ranges(_ b: BoundingBox) -> [(Double, Double)] {
            b.isTransmeridian ? [(b.west, Double.pi), (-Double.pi, b.east)] : [(b.west, b.east)]
        }
        for a in ranges(self) { for b in ranges(o) where a.0 <= b.1 && b.0 <= a.1 { return true } }
        return false
    }
}

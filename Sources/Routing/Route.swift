import HexGeo
import Vocabulary

/// A computed route: cost, the original-graph node path and its geometry.
public struct Route: Sendable {
    /// Travel time in seconds under the weights used.
    public var durationSeconds: Double
    /// Length along the roads in meters.
    public var distanceMeters: Double
    /// Graph node ids along the route (snapped end points are not nodes and are not listed).
    public var nodes: [Int]
    /// The geometry: snapped start, every node, snapped end.
    public var points: [LatLng]
    /// `points` as an encoded polyline, precision 5.
    public var polyline: String { Polyline.encode(points) }
}

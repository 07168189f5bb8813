import HexGeo
import Vocabulary

/// Where a coordinate lands on the road network: the nearest point on any routable edge.
public struct Snap: Sendable {
    /// The snapped point on the road.
    public var point: LatLng
    /// Distance from the query coordinate to `point`, in meters.
    public var distanceMeters: Double
    /// Every directed edge through `point` (both directions of a two-way road, restriction copies), with the
    /// fraction of the edge's length from its tail to `point`.
    public var edges: [(edge: Int, fraction: Double)]
}

import EventLoop
import Foundation
import HexGeo
import JSON
import Routing
import Vocabulary

/// The loaded road network, loop-owned: the network, the weights in force (free flow, then live
/// customizations swapped in as they finish), the loop's own query workspace and the live-speed matcher.
final class RoadState {
    let network: RoadNetwork
    /// The mode this network is for.
    let profile: RoutingProfile
    private(set) var weights: RoutingWeights
    private(set) var query: RouteQuery
    let traffic: LiveTraffic
    /// Pings map-matched in the current tick, capped so live speeds can never take over the loop.
    var observedThisTick = 0
    var maxObservationsPerTick = 2_000
    var customizing = false
    private(set) var roadSegmentsJSON: [UInt8]?
    /// The loop's other query workspaces (free-flow weights, shortest distance), made on first use.
    private var otherQueries: [String: RouteQuery] = [:]
    private var matcher: MapMatcher?
    private var matcherGeneration = -1

    init(network: RoadNetwork, profile: RoutingProfile = .car) {
        self.network = network
        self.profile = profile
        weights = network.freeFlow
        query = network.makeQuery()
        traffic = LiveTraffic(network: network)
    }

    /// Hour-of-week weights contracted so far, by bucket; dropped with each live customization so they follow new data.
    private var hourWeights: [Int: RoutingWeights] = [:]

    /// Swaps in new weights (on the loop, from a finished customization).
    func use(_ w: RoutingWeights) {
        weights = w
        query = network.makeQuery(weights: w)
        otherQueries.removeAll()
        hourWeights.removeAll()
    }

    /// The weights for a departure at `departAtMs`: its hour-of-week bucket's, when contracted already (nil: a worker
    /// must run `hourCustomization(departAtMs:)` first). A bucket nobody drove in is the free-flow weights.
    func weights(departAtMs: Int64) -> RoutingWeights? {
        let bucket = HourOfWeekSpeeds.bucket(timestampMs: departAtMs)
        if traffic.hourly.observedEdges(bucket: bucket) == 0 { return network.freeFlow }
        return hourWeights[bucket]
    }

    /// The job that contracts the bucket of `departAtMs`, for a worker.
    func hourCustomization(departAtMs: Int64) -> LiveTraffic.Customization {
        traffic.makeCustomization(hourOfWeek: HourOfWeekSpeeds.bucket(timestampMs: departAtMs))
    }

    /// Keeps a bucket's contracted weights (on the loop, from a finished job).
    func keep(hourWeights w: RoutingWeights, departAtMs: Int64) {
        hourWeights[HourOfWeekSpeeds.bucket(timestampMs: departAtMs)] = w
    }

    /// A route by the loop's query on live or free-flow weights minimising `optimize`; the query workspaces are kept
    /// between calls (one per kind) and used in place, so their scratch is never copied.
    func route(from origin: LatLng, to destination: LatLng, live: Bool, optimize: RoutingMetric) throws(RoutingError) -> Route? {
        if live && optimize == .time { return try query.route(from: origin, to: destination) }
        let key = "\(live)-\(optimize.rawValue)"
        var q = otherQueries.removeValue(forKey: key) ?? network.makeQuery(weights: live ? weights : network.freeFlow, optimize: optimize)
        defer { otherQueries[key] = q }
        return try q.route(from: origin, to: destination)
    }

    /// Matches a short trace with the loop's matcher (made on first use; its scratch is kept), durations under the live
    /// weights.
    func matchOnLoop(_ trace: [TracePoint]) -> MapMatch {
        // Taken out while it runs so its scratch stays uniquely referenced (no copy on write).
        var m = matcherGeneration == weights.generation ? matcher ?? MapMatcher(network: network, edgeDurationsMs: weights.edgeWeights)
            : MapMatcher(network: network, edgeDurationsMs: weights.edgeWeights)
        matcher = nil
        defer { matcher = m; matcherGeneration = weights.generation }
        return m.match(trace)
    }

    /// The H3 cells at `resolution` of every road node reachable from `origin` within `maxSeconds` on the live
    /// weights, sorted and unique.
    func isochroneCells(from origin: LatLng, maxSeconds: Double, resolution: Int) throws(RoutingError) -> [H3Cell] {
        try query.isochroneCells(from: origin, withinSeconds: maxSeconds, resolution: resolution)
    }

    /// The road network as `{"segments":[[lat1,lng1,lat2,lng2],…]}`, built once (coordinates to 1e-5°).
    func roadSegments() -> [UInt8] {
        if let roadSegmentsJSON { return roadSegmentsJSON }
        var w = JSONWriter(capacity: 1 << 16)
        w.beginObject()
        w.key("segments"); w.beginArray()
        var seen = Set<UInt64>()
        network.forEachRoadSegment { a, b in
            // Both directions of a two-way road draw once.
            let ka = Self.key(a), kb = Self.key(b)
            guard seen.insert(min(ka, kb) &* 31 &+ max(ka, kb)).inserted else { return }
            w.beginArray()
            w.number(Self.r5(a.latDegrees)); w.number(Self.r5(a.lngDegrees))
            w.number(Self.r5(b.latDegrees)); w.number(Self.r5(b.lngDegrees))
            w.endArray()
        }
        w.endArray()
        w.endObject()
        roadSegmentsJSON = w.bytes
        return w.bytes
    }

    private static func key(_ p: LatLng) -> UInt64 {
        UInt64(bitPattern: Int64((p.latDegrees * 1e6).rounded())) &* 1_000_003 &+ UInt64(bitPattern: Int64((p.lngDegrees * 1e6).rounded()))
    }

    private static func r5(_ v: Double) -> Double { (v * 1e5).rounded() / 1e5 }
}

extension RoadState: DriveTimeReach {
    /// The generation of the weights in force.
    var weightsVersion: UInt64 { UInt64(max(0, weights.generation)) }

    /// The resolution-8 cells (about 0.7 km² each) of the road nodes reachable within `maxSeconds` on the weights in
    /// force: the one-to-all search (PHAST) on the loop's query, run when the fence is made and when the weights change.
    func reachableCells(from point: LatLng, maxSeconds: Double) -> [H3Cell]? {
        guard let nodes = try? query.reachable(from: point, withinSeconds: maxSeconds) else { return nil }
        var cells = Set<H3Cell>()
        for reached in nodes {
            if let c = try? H3.latLngToCell(network.graph.coordinate(reached.node), resolution: 8) { cells.insert(c) }
        }
        return cells.isEmpty ? nil : Array(cells)
    }

    func reachableCells(from point: LatLng, maxSeconds: Double, resolution: Int) -> [H3Cell]? {
        guard let cells = try? isochroneCells(from: point, maxSeconds: maxSeconds, resolution: resolution), !cells.isEmpty else { return nil }
        return cells
    }

    func arrivalCells(to place: LatLng, maxSeconds: Double, resolution: Int) -> [H3Cell]? {
        guard let cells = try? query.arrivalCells(to: place, withinSeconds: maxSeconds, resolution: resolution), !cells.isEmpty else { return nil }
        return cells
    }

    func roadPath(from origin: LatLng, to destination: LatLng) -> [LatLng]? {
        guard let route = try? route(from: origin, to: destination, live: true, optimize: .time), !route.points.isEmpty else { return nil }
        return route.points
    }
}

import Foundation
import HexGeo
import Routing
import Vocabulary

/// Drivers moving along shortest paths on a road graph: the movement model of `hexfleet simulate` and of the
/// engine's demo fleet.
///
/// Every driver is always on a *leg*: a node path with cumulative free-flow times. A roaming driver drives between
/// random *hubs* (nodes of the graph's main strongly connected component) along precomputed hub-to-hub shortest
/// paths, which all drivers share, so a million drivers cost about 40 bytes each. `send(_:toNode:atMs:)` gives a
/// driver a private leg to any node (a pick-up or a drop-off); when it arrives it parks until sent again or
/// `roam(_:atMs:)`. Each driver drives at its own fraction of the free-flow speed; `fix(_:atMs:)` adds GPS noise.
///
/// Time is any millisecond clock that never goes back per driver (wall clock online and in the demo, virtual time
/// offline). Every random draw comes from one generator seeded at `init`, so the same seed and the same calls give
/// the same positions (the offline comparison depends on it).
///
/// Not thread-safe and deliberately not `Sendable`: one owner (the engine's loop, or the simulator's thread).
public final class RoadMover {
    /// A position report as a driver app would make it.
    public struct Fix: Sendable, Equatable {
        public var latDegrees: Double
        public var lngDegrees: Double
        /// Ground speed, m/s.
        public var speedMetersPerSecond: Double
        /// Heading in degrees clockwise from north, 0..<360.
        public var headingDegrees: Double
        /// The horizontal accuracy the app would claim, meters.
        public var accuracyMeters: Double

        public init(latDegrees: Double, lngDegrees: Double, speedMetersPerSecond: Double, headingDegrees: Double,
                    accuracyMeters: Double) {
            self.latDegrees = latDegrees; self.lngDegrees = lngDegrees
            self.speedMetersPerSecond = speedMetersPerSecond; self.headingDegrees = headingDegrees
            self.accuracyMeters = accuracyMeters
        }
    }

    /// Where a driver is, exactly (no GPS noise), and what it is doing.
    public struct Motion: Sendable, Equatable {
        public var latDegrees: Double
        public var lngDegrees: Double
        /// Ground speed, m/s (0 when parked).
        public var speedMetersPerSecond: Double
        /// Heading in degrees clockwise from north, 0..<360 (0 when parked).
        public var headingDegrees: Double
        public var mode: Mode
    }

    /// What a driver is doing on the road.
    public enum Mode: UInt8, Sendable { case roaming, directed, parked }

    /// Errors building the model.
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// A path with cumulative free-flow times (ms) at each point; `nodes` names each point's graph node (−1 for a
    /// leg's first point when it lies between nodes).
    struct Leg {
        var lat: [Double]
        var lng: [Double]
        var cumMs: [Double]
        var nodes: [Int32]
        var endNode: Int32
        /// Per segment k (point k to k + 1): speed in m/s at speed factor 1, and heading in degrees [0, 360).
        /// Computed once per leg, so a fix costs no trigonometry.
        var segmentSpeed: [Double] = []
        var segmentHeading: [Double] = []
        var totalMs: Double { cumMs[cumMs.count - 1] }

        init(lat: [Double], lng: [Double], cumMs: [Double], nodes: [Int32], endNode: Int32) {
            self.lat = lat; self.lng = lng; self.cumMs = cumMs; self.nodes = nodes; self.endNode = endNode
        }

        /// Fills `segmentSpeed` and `segmentHeading` from the points and times.
        mutating func computeSegments() {
            let n = max(0, lat.count - 1)
            segmentSpeed = [Double](repeating: 0, count: n)
            segmentHeading = [Double](repeating: 0, count: n)
            for k in 0..<n {
                let a = LatLng(degrees: lat[k], lng[k]), b = LatLng(degrees: lat[k + 1], lng[k + 1])
                let dt = cumMs[k + 1] - cumMs[k]
                segmentSpeed[k] = dt > 0 ? Geodesy.distanceMeters(a, b) / (dt / 1000) : 0
                var heading = Geodesy.initialBearing(from: a, to: b) * 180 / Double.pi
                if heading < 0 { heading += 360 }
                if heading >= 360 { heading -= 360 }
                segmentHeading[k] = heading
            }
        }
    }

    /// The network driven on.
    public let network: RoadNetwork
    /// Nodes of the main strongly connected component: every one reaches every other.
    public let connectedNodes: [Int32]
    /// Hub nodes (roaming destinations).
    public let hubs: [Int32]
    /// Standard deviation of the GPS error per axis, meters.
    public var gpsNoiseMeters: Double = 4
    /// Probability that a fix is an outlier (multipath), with 8× the noise.
    public var gpsOutlierProbability: Double = 0.01

    private var query: RouteQuery
    private var rng: SimRandom
    private var legs: [Leg] = []
    private var freeLegs: [Int32] = []
    private let sharedLegCount: Int
    private var legOf: [Int32]
    private var legStartMs: [Int64]
    private var cursor: [UInt32]
    private var speedFactor: [Float]
    private var modes: [Mode]
    private var hubOf: [UInt16]
    private var isInComponent: [Bool]

    /// Number of drivers.
    public var count: Int { legOf.count }

    /// Places `driverCount` drivers at random points of random hub-to-hub legs at time `startMs`.
    /// - Parameters:
    ///   - hubCount: roaming destinations; the model precomputes `hubCount × (hubCount − 1)` shortest paths.
    ///   - speedRange: each driver's fraction of the free-flow speed, drawn uniformly (urban traffic: 0.6…0.95).
    /// - Throws: `SetupError` when the graph has no strongly connected part large enough to drive in.
    /// - Complexity: two graph traversals per component attempt, plus the hub-to-hub routes.
    public init(network: RoadNetwork, driverCount: Int, seed: UInt64, startMs: Int64, hubCount: Int = 40,
                speedRange: ClosedRange<Double> = 0.6...0.95) throws(SetupError) {
        self.network = network
        query = network.makeQuery()
        rng = SimRandom(seed: seed, stream: 1)
        let graph = network.graph
        guard graph.nodeCount >= 2 else { throw SetupError(description: "graph has fewer than 2 nodes") }
        // The main strongly connected component: forward ∩ backward reachability from a seed node, retried until it
        // holds at least a third of the graph (a seed on an isolated stub would give a tiny component).
        var component: [Bool] = []
        var members: [Int32] = []
        for _ in 0..<20 {
            let root = rng.index(graph.nodeCount)
            let forward = Self.reach(from: root, offsets: graph.forwardOffsets, heads: graph.forwardHeads, n: graph.nodeCount)
            let backward = Self.reach(from: root, offsets: graph.backwardOffsets, heads: graph.backwardTails, n: graph.nodeCount)
            component = zip(forward, backward).map { $0 && $1 }
            members = component.indices.filter { component[$0] }.map { Int32($0) }
            if members.count * 3 >= graph.nodeCount { break }
        }
        guard members.count >= 2 else { throw SetupError(description: "no strongly connected part of the road graph to drive in") }
        connectedNodes = members
        isInComponent = component
        let h = max(2, min(hubCount, members.count, Int(UInt16.max)))
        var chosen = Set<Int32>()
        var hubList: [Int32] = []
        while hubList.count < h {
            let v = members[rng.index(members.count)]
            if chosen.insert(v).inserted { hubList.append(v) }
        }
        hubs = hubList
        // Shared legs: index a * h + b for hubs a ≠ b (the diagonal stays a one-point leg, never used).
        for a in 0..<h {
            for b in 0..<h {
                if a == b {
                    legs.append(Self.pointLeg(graph, Int(hubList[a])))
                } else {
                    legs.append(Self.leg(query: &query, graph: graph, from: Int(hubList[a]), to: Int(hubList[b]))
                        ?? Self.pointLeg(graph, Int(hubList[a])))
                }
            }
        }
        sharedLegCount = legs.count
        legOf = [Int32](repeating: 0, count: driverCount)
        legStartMs = [Int64](repeating: startMs, count: driverCount)
        cursor = [UInt32](repeating: 0, count: driverCount)
        speedFactor = [Float](repeating: 1, count: driverCount)
        modes = [Mode](repeating: .roaming, count: driverCount)
        hubOf = [UInt16](repeating: 0, count: driverCount)
        for i in 0..<driverCount {
            let a = rng.index(h)
            var b = rng.index(h - 1)
            if b >= a { b += 1 }
            let f = speedRange.lowerBound + (speedRange.upperBound - speedRange.lowerBound) * rng.unit()
            speedFactor[i] = Float(f)
            legOf[i] = Int32(a * h + b)
            hubOf[i] = UInt16(b)
            // Start somewhere along the leg: as if the leg began that long ago.
            let elapsedMs = legs[a * h + b].totalMs * rng.unit() / f
            legStartMs[i] = startMs - Int64(elapsedMs)
        }
    }

    /// Nodes reachable from `root` over a CSR adjacency.
    private static func reach(from root: Int, offsets: UnsafeBufferPointer<UInt32>, heads: UnsafeBufferPointer<UInt32>,
                              n: Int) -> [Bool] {
        var seen = [Bool](repeating: false, count: n)
        var stack = [root]
        seen[root] = true
        while let u = stack.popLast() {
            for e in Int(offsets[u])..<Int(offsets[u + 1]) {
                let v = Int(heads[e])
                if !seen[v] { seen[v] = true; stack.append(v) }
            }
        }
        return seen
    }

    private static func pointLeg(_ graph: RoadGraph, _ v: Int) -> Leg {
        Leg(lat: [graph.latDegrees[v]], lng: [graph.lngDegrees[v]], cumMs: [0], nodes: [Int32(v)], endNode: Int32(v))
    }

    /// The shortest path between nodes as a leg, optionally starting from a point before `from`.
    private static func leg(query: inout RouteQuery, graph: RoadGraph, from: Int, to: Int,
                            prefix: (lat: Double, lng: Double, ms: Double)? = nil) -> Leg? {
        guard let route = try? query.route(fromNode: from, toNode: to) else { return nil }
        var nodes = route.nodes
        if nodes.isEmpty { nodes = [from] }
        var leg = Leg(lat: [], lng: [], cumMs: [], nodes: [], endNode: Int32(to))
        leg.nodes.reserveCapacity(nodes.count + 1)
        leg.lat.reserveCapacity(nodes.count + 1)
        leg.lng.reserveCapacity(nodes.count + 1)
        leg.cumMs.reserveCapacity(nodes.count + 1)
        var t = 0.0
        if let prefix {
            leg.lat.append(prefix.lat); leg.lng.append(prefix.lng); leg.cumMs.append(0); leg.nodes.append(-1)
            t = prefix.ms
        }
        for (k, v) in nodes.enumerated() {
            if k > 0 {
                let u = nodes[k - 1]
                var best = UInt32.max
                for e in graph.outgoing(u) where Int(graph.forwardHeads[e]) == v { best = min(best, graph.durationsMs[e]) }
                t += best == .max ? 0 : Double(best)
            }
            leg.lat.append(graph.latDegrees[v]); leg.lng.append(graph.lngDegrees[v]); leg.cumMs.append(t)
            leg.nodes.append(Int32(v))
        }
        leg.computeSegments()
        return leg
    }

    /// Where a driver is and what it is doing at `nowMs`, moving it on (and roaming on to new hubs) as needed.
    /// Returns the exact position; `fix` adds noise.
    /// - Complexity: amortized O(1) per call while time moves on (a binary search on a leg's first call).
    public func state(_ i: Int, atMs nowMs: Int64) -> Motion {
        while true {
            let li = Int(legOf[i])
            let f = Double(speedFactor[i])
            let elapsed = Double(nowMs - legStartMs[i]) * f
            let leg = legs[li]
            if modes[i] == .parked || elapsed >= leg.totalMs {
                if modes[i] == .roaming && leg.cumMs.count > 1 {
                    // Leg done: the next one starts when this one ended.
                    legStartMs[i] += Int64((leg.totalMs / f).rounded(.up))
                    releaseLeg(li)
                    let h = hubs.count, a = Int(hubOf[i])
                    var b = rng.index(h - 1)
                    if b >= a { b += 1 }
                    legOf[i] = Int32(a * h + b)
                    hubOf[i] = UInt16(b)
                    cursor[i] = 0
                    continue
                }
                if modes[i] == .directed { modes[i] = .parked }
                let last = leg.lat.count - 1
                return Motion(latDegrees: leg.lat[last], lngDegrees: leg.lng[last], speedMetersPerSecond: 0,
                              headingDegrees: 0, mode: modes[i])
            }
            var k = Int(cursor[i])
            if k >= leg.cumMs.count - 1 || leg.cumMs[k] > elapsed { k = 0 }
            // Binary search the first time, then walk forward: time only moves on.
            if k == 0 && leg.cumMs.count > 8 {
                var lo = 0, hi = leg.cumMs.count - 1
                while lo + 1 < hi { let mid = (lo + hi) / 2; if leg.cumMs[mid] <= elapsed { lo = mid } else { hi = mid } }
                k = lo
            }
            while k + 1 < leg.cumMs.count - 1 && leg.cumMs[k + 1] <= elapsed { k += 1 }
            cursor[i] = UInt32(k)
            let t0 = leg.cumMs[k], t1 = leg.cumMs[k + 1]
            let r = t1 > t0 ? min(1, max(0, (elapsed - t0) / (t1 - t0))) : 1
            let lat = leg.lat[k] + (leg.lat[k + 1] - leg.lat[k]) * r
            let lng = leg.lng[k] + (leg.lng[k + 1] - leg.lng[k]) * r
            return Motion(latDegrees: lat, lngDegrees: lng, speedMetersPerSecond: leg.segmentSpeed[k] * f,
                          headingDegrees: leg.segmentHeading[k], mode: modes[i])
        }
    }

    /// A noisy position report at `nowMs` (the driver keeps moving; noise is drawn from the model's generator).
    public func fix(_ i: Int, atMs nowMs: Int64) -> Fix {
        let s = state(i, atMs: nowMs)
        let sigma = rng.chance(gpsOutlierProbability) ? gpsNoiseMeters * 8 : gpsNoiseMeters
        let north = rng.normal() * sigma, east = rng.normal() * sigma
        let metersPerDegree = 111_195.0
        let lat = s.latDegrees + north / metersPerDegree
        let lng = s.lngDegrees + east / (metersPerDegree * max(0.01, cos(s.latDegrees * Double.pi / 180)))
        return Fix(latDegrees: lat, lngDegrees: lng, speedMetersPerSecond: s.speedMetersPerSecond,
                   headingDegrees: s.headingDegrees, accuracyMeters: max(3, sigma * 1.5))
    }

    /// Sends a driver from where it is at `nowMs` to `node` along the shortest path (through the end of the segment
    /// it is on). Returns the trip's duration in seconds at the driver's speed, or nil when the node is unreachable
    /// (the driver's plan is then unchanged).
    @discardableResult
    public func send(_ i: Int, toNode node: Int, atMs nowMs: Int64) -> Double? {
        guard node >= 0, node < network.graph.nodeCount else { return nil }
        let s = state(i, atMs: nowMs)
        let (from, prefixMs) = departure(i, s, atMs: nowMs)
        guard var newLeg = Self.leg(query: &query, graph: network.graph, from: from, to: node,
                                    prefix: (s.latDegrees, s.lngDegrees, prefixMs)) else { return nil }
        newLeg.endNode = Int32(node)
        setPrivateLeg(i, newLeg, startMs: nowMs, mode: .directed)
        return newLeg.totalMs / Double(speedFactor[i]) / 1000
    }

    /// Where a trip from the driver's position `s` at `nowMs` leaves the graph: the next node of its current leg
    /// (it finishes the segment it is on, taking `prefixMs` of free-flow time), or its leg's end when parked or when
    /// that node lies outside the component.
    private func departure(_ i: Int, _ s: Motion, atMs nowMs: Int64) -> (from: Int, prefixMs: Double) {
        let leg = legs[Int(legOf[i])]
        let k = Int(cursor[i])
        if s.mode == .parked || leg.cumMs.count < 2 || k + 1 >= leg.cumMs.count { return (Int(leg.endNode), 0) }
        let elapsed = Double(nowMs - legStartMs[i]) * Double(speedFactor[i])
        let next = Int(leg.nodes[k + 1])
        if next >= 0 && isInComponent[next] { return (next, max(0, leg.cumMs[k + 1] - elapsed)) }
        return (Int(leg.endNode), max(0, leg.totalMs - elapsed))
    }

    /// Gives driver `i` a leg of its own (releasing the one it is on), starting at `startMs`.
    private func setPrivateLeg(_ i: Int, _ leg: Leg, startMs: Int64, mode: Mode) {
        releaseLeg(Int(legOf[i]))
        let slot: Int
        if let free = freeLegs.popLast() { slot = Int(free); legs[slot] = leg } else { slot = legs.count; legs.append(leg) }
        legOf[i] = Int32(slot)
        legStartMs[i] = startMs
        cursor[i] = 0
        modes[i] = mode
    }

    private func releaseLeg(_ li: Int) {
        guard li >= sharedLegCount else { return }
        legs[li] = Leg(lat: [], lng: [], cumMs: [0], nodes: [], endNode: legs[li].endNode)
        freeLegs.append(Int32(li))
    }

    /// Sends a parked or directed driver back to roaming: it drives to the nearest hub of its choice, then on.
    public func roam(_ i: Int, atMs nowMs: Int64) {
        let b = rng.index(hubs.count)
        if send(i, toNode: Int(hubs[b]), atMs: nowMs) != nil {
            modes[i] = .roaming
            hubOf[i] = UInt16(b)
            // A roaming private leg rolls over to a shared one at its end (hubOf is its end hub).
        }
    }

    /// Stops a driver where it is at `nowMs`: it parks there (mid-road if need be) until sent on. A later trip
    /// leaves from the node the driver was heading for.
    public func park(_ i: Int, atMs nowMs: Int64) {
        let s = state(i, atMs: nowMs)
        guard s.mode != .parked else { return }
        let (from, _) = departure(i, s, atMs: nowMs)
        let here = Leg(lat: [s.latDegrees], lng: [s.lngDegrees], cumMs: [0], nodes: [-1], endNode: Int32(from))
        setPrivateLeg(i, here, startMs: nowMs, mode: .parked)
    }

    /// Puts a driver, parked, at a node of the component (ignored for any other node), e.g. to start a fleet
    /// scattered over the whole map instead of on the hub legs.
    public func place(_ i: Int, atNode node: Int, atMs nowMs: Int64) {
        guard isReachable(node: node) else { return }
        setPrivateLeg(i, Self.pointLeg(network.graph, node), startMs: nowMs, mode: .parked)
    }

    /// Whether a driver has reached the end of a directed leg (and is parked there).
    public func isParked(_ i: Int, atMs nowMs: Int64) -> Bool { state(i, atMs: nowMs).mode == .parked }

    /// The node a driver is parked at or heading to.
    public func destinationNode(_ i: Int) -> Int { Int(legs[Int(legOf[i])].endNode) }

    /// A uniformly random node of the connected component (a destination every driver can reach).
    public func randomNode() -> Int { Int(connectedNodes[rng.index(connectedNodes.count)]) }

    /// Whether a node lies in the component every driver can reach and leave.
    public func isReachable(node: Int) -> Bool { node >= 0 && node < isInComponent.count && isInComponent[node] }

    /// The component node nearest to `point` among the ends of the road segment it snaps to (a pick-up given as a
    /// coordinate becomes a node to `send` to); nil when no road is near or neither end lies in the component.
    public func nearestReachableNode(to point: LatLng) -> Int? {
        guard let snap = network.snapIndex.snap(point) else { return nil }
        let graph = network.graph
        var best: (meters: Double, node: Int)?
        for hit in snap.edges {
            for node in [network.snapIndex.tail(of: hit.edge), Int(graph.forwardHeads[hit.edge])] where isReachable(node: node) {
                let meters = Geodesy.distanceMeters(point, graph.coordinate(node))
                if best.map({ meters < $0.meters }) ?? true { best = (meters, node) }
            }
        }
        return best?.node
    }
}

extension RoadMover.Fix {
    /// The fix as a ping record, fields clamped to their wire ranges (speed and accuracy below the 65,535 "unknown",
    /// heading 0…359.99°), so a simulated driver never sends what a real app could not.
    public func pingRecord(driverID: UInt64, timestampMs: Int64, status: UInt8) -> PingRecord {
        PingRecord(driverID: driverID, timestampMs: timestampMs,
                   latE7: Int32((latDegrees * 1e7).rounded()), lngE7: Int32((lngDegrees * 1e7).rounded()),
                   speedCmPerSecond: UInt16(min(65_534, max(0, speedMetersPerSecond * 100)).rounded()),
                   headingCentidegrees: UInt16(min(35_999, max(0, headingDegrees * 100)).rounded()),
                   accuracyDecimetres: UInt16(min(65_534, accuracyMeters * 10).rounded()), status: status)
    }
}

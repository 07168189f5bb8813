import Engine
import Foundation
import Routing
import Testing
import Vocabulary

/// The movement model the simulator and the demo share, on a generated grid of 100 m streets.
@Suite struct RoadMoverTests {
    static let network = RoadNetwork.build(graph: SyntheticGraphs.grid(columns: 8, rows: 8, seed: 3))

    /// Where `p` lies along `points`: metres from the start to its projection, and its distance from the polyline.
    static func along(_ points: [LatLng], _ p: LatLng) -> (meters: Double, offMeters: Double) {
        var best = (meters: 0.0, offMeters: Double.infinity)
        var start = 0.0
        for k in 0..<(points.count - 1) {
            let a = points[k], b = points[k + 1]
            let length = Geodesy.distanceMeters(a, b)
            // Project in degrees: at 100 m the grid's segments are straight in any projection.
            let dx = b.lngDegrees - a.lngDegrees, dy = b.latDegrees - a.latDegrees
            let len2 = dx * dx + dy * dy
            let t = len2 > 0 ? min(1, max(0, ((p.lngDegrees - a.lngDegrees) * dx + (p.latDegrees - a.latDegrees) * dy) / len2)) : 0
            let q = LatLng(degrees: a.latDegrees + t * dy, a.lngDegrees + t * dx)
            let off = Geodesy.distanceMeters(p, q)
            if off < best.offMeters - 1e-9 { best = (start + t * length, off) }
            start += length
        }
        return best
    }

    @Test("a sent driver advances along its route by speed × time, stays on it, and parks at the destination",
          arguments: [1.0, 0.5])
    func drivesTheRoute(speedFactor: Double) throws {
        let mover = try RoadMover(network: Self.network, driverCount: 1, seed: 9, startMs: 0, hubCount: 2,
                                  speedRange: speedFactor...speedFactor)
        let from = Int(mover.connectedNodes.first!), to = Int(mover.connectedNodes.last!)
        mover.place(0, atNode: from, atMs: 0)
        #expect(mover.isParked(0, atMs: 0))
        var query = Self.network.makeQuery()
        let found = try query.route(fromNode: from, toNode: to)
        let route = try #require(found)
        let seconds = try #require(mover.send(0, toNode: to, atMs: 1_000))
        #expect(abs(seconds - route.durationSeconds / speedFactor) < 0.001, "the trip takes the route's time at the driver's speed")
        #expect(mover.destinationNode(0) == to)

        // Each segment is driven at its length over its free-flow time, times the driver's factor.
        var segmentEndMs = [0.0], segmentEndMeters = [0.0]
        for k in 1..<route.nodes.count {
            let segment = query.durationMs(fromNode: route.nodes[k - 1], toNode: route.nodes[k])
            let ms = try #require(segment)
            segmentEndMs.append(segmentEndMs[k - 1] + Double(ms) / speedFactor)
            segmentEndMeters.append(segmentEndMeters[k - 1] + Geodesy.distanceMeters(route.points[k - 1], route.points[k]))
        }
        func expectedMeters(afterMs t: Double) -> Double {
            guard let k = segmentEndMs.firstIndex(where: { $0 >= t }), k > 0 else { return t <= 0 ? 0 : segmentEndMeters.last! }
            let r = (t - segmentEndMs[k - 1]) / (segmentEndMs[k] - segmentEndMs[k - 1])
            return segmentEndMeters[k - 1] + r * (segmentEndMeters[k] - segmentEndMeters[k - 1])
        }
        var lastMeters = 0.0
        for t in stride(from: 0.0, to: seconds * 1000, by: 137) {
            let m = mover.state(0, atMs: 1_000 + Int64(t))
            let position = LatLng(degrees: m.latDegrees, m.lngDegrees)
            let (meters, off) = Self.along(route.points, position)
            #expect(off < 0.01, "at \(t) ms the driver is \(off) m off its route")
            #expect(abs(meters - expectedMeters(afterMs: t)) < 0.5, "at \(t) ms: \(meters) m along, expected \(expectedMeters(afterMs: t))")
            #expect(meters >= lastMeters - 1e-6, "never backwards")
            #expect(m.mode == .directed && m.speedMetersPerSecond > 0)
            lastMeters = meters
        }
        let end = mover.state(0, atMs: 1_001 + Int64((seconds * 1000).rounded(.up)))
        #expect(end.mode == .parked && end.speedMetersPerSecond == 0)
        #expect(Geodesy.distanceMeters(LatLng(degrees: end.latDegrees, end.lngDegrees), Self.network.graph.coordinate(to)) < 0.001)
    }

    @Test("the same seed and the same calls give the same fixes; another seed other ones")
    func seeded() throws {
        func fixes(seed: UInt64) throws -> [RoadMover.Fix] {
            let mover = try RoadMover(network: Self.network, driverCount: 20, seed: seed, startMs: 0, hubCount: 5)
            var out: [RoadMover.Fix] = []
            for t in stride(from: Int64(0), to: 120_000, by: 2_000) {
                for i in 0..<mover.count { out.append(mover.fix(i, atMs: t)) }
                if t == 30_000 { mover.send(3, toNode: mover.randomNode(), atMs: t) }
                if t == 60_000 { mover.roam(3, atMs: t) }
            }
            return out
        }
        let a = try fixes(seed: 4), b = try fixes(seed: 4), c = try fixes(seed: 5)
        #expect(a == b)
        #expect(a != c)
        for f in a {
            #expect((0..<360).contains(f.headingDegrees) && f.speedMetersPerSecond >= 0 && f.accuracyMeters >= 3)
        }
    }

    @Test("park stops a driver where it is; a road point's nearest reachable node is the node itself")
    func parkAndNearestNode() throws {
        let mover = try RoadMover(network: Self.network, driverCount: 1, seed: 2, startMs: 0, hubCount: 3)
        let moving = mover.state(0, atMs: 5_000)
        mover.park(0, atMs: 5_000)
        let parked = mover.state(0, atMs: 60_000)
        #expect(parked.mode == .parked && parked.latDegrees == moving.latDegrees && parked.lngDegrees == moving.lngDegrees)
        let node = mover.randomNode()
        #expect(mover.nearestReachableNode(to: Self.network.graph.coordinate(node)) == node)
        #expect(mover.nearestReachableNode(to: LatLng(degrees: 10, 10)) == nil, "no road within reach")
        let seconds = try #require(mover.send(0, toNode: node, atMs: 60_000))
        #expect(mover.isParked(0, atMs: 60_001 + Int64((seconds * 1000).rounded(.up))))
    }

    @Test("a fix becomes a ping record clamped to the wire's ranges")
    func pingRecord() {
        let fix = RoadMover.Fix(latDegrees: 43.73, lngDegrees: 7.42, speedMetersPerSecond: 900, headingDegrees: 359.999,
                                accuracyMeters: 7_000)
        let record = fix.pingRecord(driverID: 7, timestampMs: 1_000, status: DriverStatus.onTrip.rawValue)
        #expect(record.latE7 == 437_300_000 && record.lngE7 == 74_200_000)
        #expect(record.speedCmPerSecond == 65_534 && record.headingCentidegrees == 35_999 && record.accuracyDecimetres == 65_534)
        #expect(record.isInRange)
    }
}

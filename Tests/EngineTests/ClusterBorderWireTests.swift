@testable import Engine
import HexGeo
import Testing
import Vocabulary

/// The pieces of dispatch across partition borders that need no server: which partitions an order's search disk
/// reaches, and the relayed driver message's wire (docs/cluster.md).
struct ClusterBorderWireTests {
    /// Points on a polar grid filling the disk (centre, then rings every `step` metres, one point per `step` of arc).
    static func diskSamples(_ center: LatLng, radiusMeters: Double, step: Double) -> [LatLng] {
        var out = [center]
        var r = step
        while r <= radiusMeters {
            let n = max(8, Int(2 * .pi * r / step))
            for k in 0..<n {
                out.append(Geodesy.destination(from: center, bearing: Double(k) / Double(n) * 2 * .pi, distanceMeters: r))
            }
            r += step
        }
        for k in 0..<720 {   // the rim itself
            out.append(Geodesy.destination(from: center, bearing: Double(k) / 720 * 2 * .pi, distanceMeters: radiusMeters))
        }
        return out
    }

    @Test("the partitions a disk reaches include the partition of every point in the disk, at partition resolutions coarser and finer than the radius", arguments: [
        (3, 3_000.0), (5, 3_000.0), (7, 3_000.0), (7, 15_000.0), (8, 3_000.0), (9, 800.0),
    ])
    func partitionsReachedCoverTheDisk(resolution: Int, radius: Double) throws {
        let directory = StaticPartitionDirectory(node: "a", resolution: resolution)
        for center in [LatLng(degrees: 43.7347, 7.4206), LatLng(degrees: 60.1699, 24.9384), LatLng(degrees: 42.5063, 1.5218)] {
            let reached = DispatchCluster.partitionsReached(from: center, radiusMeters: radius, in: directory)
            for p in Self.diskSamples(center, radiusMeters: radius, step: radius / 40) {
                let partition = directory.partition(of: try H3.latLngToCell(p, resolution: 9))
                #expect(reached.contains(partition), "\(p) in \(partition) not among \(reached.count) reached (R \(resolution), r \(radius) m)")
            }
        }
    }

    @Test("a disk deep inside one partition reaches that partition alone; one whose rim crosses a border reaches both sides")
    func partitionsReachedStayNearTheDisk() throws {
        let directory = StaticPartitionDirectory(node: "a", resolution: 3)
        let monaco = LatLng(degrees: 43.7347, 7.4206)
        let home = directory.partition(of: try H3.latLngToCell(monaco, resolution: 9))
        #expect(DispatchCluster.partitionsReached(from: monaco, radiusMeters: 3_000, in: directory) == [home])
        // The nearest border is under 10 km away: a 10 km disk reaches across it.
        #expect(DispatchCluster.partitionsReached(from: monaco, radiusMeters: 10_000, in: directory).count >= 2)
    }

    @Test("a relayed driver message survives encode and decode; a wrong kind, a non-zero pad, a short or long message is refused")
    func driverPushWire() {
        let json = Array(#"{"type":"offer","order":7,"pickup":[43.7,7.4],"expires_at_ms":1}"#.utf8)
        let bytes = ClusterWire.driverPush(DriverID(71), json)
        let decoded = ClusterWire.driverPush(bytes)
        #expect(decoded?.driver == DriverID(71) && decoded?.json == json)
        #expect(ClusterWire.driverPush(ClusterWire.driverPush(DriverID(1), [])).map { $0.json.isEmpty } == true)
        var wrongKind = bytes; wrongKind[0] = ClusterWire.positionsKind
        var padded = bytes; padded[2] = 1
        #expect(ClusterWire.driverPush(wrongKind) == nil)
        #expect(ClusterWire.driverPush(padded) == nil)
        #expect(ClusterWire.driverPush(Array(bytes.dropLast())) == nil)
        #expect(ClusterWire.driverPush(bytes + [0]) == nil)
        #expect(ClusterWire.driverPush(Array(bytes.prefix(12))) == nil)
        #expect(ClusterWire.driverPush([]) == nil)
    }
}

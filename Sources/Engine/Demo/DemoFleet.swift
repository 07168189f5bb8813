import Crypto
import EventLoop
import FleetIndex
import Foundation
import HexGeo
import Routing
import Vocabulary

/// The demo's simulated fleet: drivers drive real shortest paths on the loaded road network at the route's
/// speeds, with a little GPS noise, and report every `pingIntervalMs` as a gateway would — batched, signed UDP
/// datagrams sent over loopback to the engine's own UDP port, so the demo exercises the real ingest path.
/// Loop-owned.
final class DemoFleet {
    struct Driver {
        var id: UInt64
        var path: [LatLng] = []
        var cumulative: [Double] = []   // meters from the path start to each point
        var speedMps = 8.0
        var travelled = 0.0
        var status: DriverStatus = .available
        var nextPingMs: Int64 = 0
        /// A job the demo driver is working: (order, pickup reached?).
        var job: (order: UInt64, pickedUp: Bool, dropoff: LatLng)?
        var position: LatLng { point(at: travelled) }

        func point(at meters: Double) -> LatLng {
            guard path.count > 1 else { return path.first ?? LatLng(lat: 0, lng: 0) }
            var lo = 0, hi = cumulative.count - 1
            while lo + 1 < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] <= meters { lo = mid } else { hi = mid }
            }
            let span = cumulative[hi] - cumulative[lo]
            let t = span > 0 ? min(1, max(0, (meters - cumulative[lo]) / span)) : 0
            let a = path[lo], b = path[hi]
            return LatLng(lat: a.lat + (b.lat - a.lat) * t, lng: a.lng + (b.lng - a.lng) * t)
        }
        var arrived: Bool { cumulative.last.map { travelled >= $0 } ?? true }
    }

    static let gatewayID: UInt64 = 0xDE_30
    let network: RoadNetwork
    var drivers: [Driver]
    var query: RouteQuery
    var rng: SystemRandomNumberGenerator
    let socket: UDPSocket
    let target: SocketAddress
    let key: SymmetricKey
    let pingIntervalMs: Int64 = 2_000
    /// Pick-up points of open offers, so an accepted offer knows where to drive.
    var pendingPickups: [UInt64: LatLng] = [:]
    private var datagram = [UInt8](repeating: 0, count: PingWire.datagramLength(records: 40))

    init(network: RoadNetwork, count: Int, firstID: UInt64 = 900_000, loop: Loop, target: SocketAddress, keys: PingKeys) throws {
        self.network = network
        query = network.makeQuery()
        rng = SystemRandomNumberGenerator()
        socket = try UDPSocket(loop: loop)
        _ = try socket.bind(host: target.isIPv6 ? "::1" : "127.0.0.1", port: 0)
        self.target = target
        key = keys.gatewayKey(Self.gatewayID)
        drivers = (0..<count).map { Driver(id: firstID + UInt64($0)) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in drivers.indices {
            let start = randomNode()
            drivers[i].path = [network.graph.coordinate(start)]
            drivers[i].cumulative = [0]
            drivers[i].nextPingMs = now + Int64.random(in: 0..<pingIntervalMs, using: &rng)
            planTrip(i, to: network.graph.coordinate(randomNode()))
        }
    }

    func randomNode() -> Int { Int.random(in: 0..<network.graph.nodeCount, using: &rng) }

    /// Points driver `i` at a destination along the fastest route from where it is.
    func planTrip(_ i: Int, to destination: LatLng) {
        let from = drivers[i].position
        guard let route = try? query.route(from: from, to: destination), route.points.count > 1,
              route.durationSeconds > 0 else {
            drivers[i].path = [from]; drivers[i].cumulative = [0]; drivers[i].travelled = 0
            return
        }
        var cumulative = [0.0]
        for k in 1..<route.points.count {
            cumulative.append(cumulative[k - 1] + Geodesy.distanceMeters(route.points[k - 1], route.points[k]))
        }
        drivers[i].path = route.points
        drivers[i].cumulative = cumulative
        drivers[i].travelled = 0
        drivers[i].speedMps = max(3, min(25, route.distanceMeters / route.durationSeconds)) * Double.random(in: 0.8...1.1, using: &rng)
    }

    /// Advances every driver by `dtMs` and sends the pings that are due. Returns drivers that reached the end of
    /// their path while holding a job (the engine moves their orders along).
    func step(dtMs: Int64, nowMs: Int64) -> [(index: Int, order: UInt64, pickedUp: Bool)] {
        var finished: [(Int, UInt64, Bool)] = []
        var records: [PingRecord] = []
        for i in drivers.indices {
            drivers[i].travelled += drivers[i].speedMps * Double(dtMs) / 1000
            if drivers[i].arrived {
                if let job = drivers[i].job { finished.append((i, job.order, job.pickedUp)) }
                else { planTrip(i, to: network.graph.coordinate(randomNode())) }
            }
            guard nowMs >= drivers[i].nextPingMs else { continue }
            drivers[i].nextPingMs = nowMs + pingIntervalMs
            let p = drivers[i].position
            // About 3 m of GPS noise.
            let noisy = Geodesy.destination(from: p, bearing: Double.random(in: 0..<(2 * .pi), using: &rng),
                                             distanceMeters: abs(Double.random(in: -3...3, using: &rng)))
            records.append(PingRecord(driverID: drivers[i].id, timestampMs: nowMs,
                                      latE7: Int32((noisy.latDegrees * 1e7).rounded()), lngE7: Int32((noisy.lngDegrees * 1e7).rounded()),
                                      speedCmPerSecond: UInt16(min(65_000, drivers[i].speedMps * 100)),
                                      headingCentidegrees: 65_535, accuracyDecimetres: 30, status: drivers[i].status.rawValue))
            if records.count == 40 { send(records); records.removeAll(keepingCapacity: true) }
        }
        if !records.isEmpty { send(records) }
        return finished
    }

    private func send(_ records: [PingRecord]) {
        let bytes = PingWire.encode(records, signerID: Self.gatewayID, gateway: true, key: key)
        try? socket.send(bytes, to: target)
    }

    func index(of driver: UInt64) -> Int? {
        let first = drivers.first?.id ?? 0
        guard driver >= first, driver < first + UInt64(drivers.count) else { return nil }
        return Int(driver - first)
    }
}

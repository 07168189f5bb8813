import Crypto
import EventLoop
import Foundation
import Routing
import Vocabulary

/// The demo's simulated fleet: drivers drive real shortest paths on the loaded road network at its road speeds
/// (`RoadMover`, the simulator's movement model), from random road nodes to random road nodes, with a little GPS
/// noise, and report every `pingIntervalMs` as a gateway would — batched, signed UDP datagrams sent over loopback to
/// the engine's own UDP port, so the demo exercises the real ingest path. Loop-owned.
final class DemoFleet {
    /// What the demo knows of a driver beyond where it is on the road (the mover keeps that).
    struct Driver {
        var id: DriverID
        var status: DriverStatus = .available
        var nextPingMs: Int64 = 0
        /// A job the demo driver is working: (order, pickup reached?).
        var job: (order: OrderID, pickedUp: Bool, dropoff: LatLng)?
    }

    static let gatewayID: UInt64 = 0xDE_30
    let network: RoadNetwork
    var drivers: [Driver]
    /// Where each driver is on the road; driver `i` here is driver `i` there.
    let mover: RoadMover
    let socket: UDPSocket
    let target: SocketAddress
    let key: SymmetricKey
    let pingIntervalMs: Int64 = 2_000
    /// Pick-up points of open offers, so an accepted offer knows where to drive.
    var pendingPickups: [OrderID: LatLng] = [:]
    /// The mover's clock: the latest `step` time, so trips planned between steps (an accepted offer) start there
    /// and the clock never goes back.
    private var clockMs: Int64

    init(network: RoadNetwork, count: Int, firstID: UInt64 = 900_000, loop: Loop, target: SocketAddress, keys: PingKeys) throws {
        self.network = network
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        clockMs = now
        // A new fleet on every start. The demo never roams between hubs (a free driver always drives to a random
        // node), so two hubs, the fewest the model takes, keep its set-up to two routes. 0.8–1.1 × the road's
        // speed is the range the demo always drew (it was of a route's mean speed; now of each segment's).
        mover = try RoadMover(network: network, driverCount: count, seed: UInt64.random(in: .min ... .max), startMs: now,
                              hubCount: 2, speedRange: 0.8...1.1)
        // About 3 m of GPS noise (and so an accuracy of 3 m), no multipath outliers.
        mover.gpsNoiseMeters = 2
        mover.gpsOutlierProbability = 0
        socket = try UDPSocket(loop: loop)
        _ = try socket.bind(host: target.isIPv6 ? "::1" : "127.0.0.1", port: 0)
        self.target = target
        key = keys.gatewayKey(Self.gatewayID)
        drivers = (0..<count).map { Driver(id: DriverID(firstID + UInt64($0))) }
        for i in drivers.indices {
            drivers[i].nextPingMs = now + Int64.random(in: 0..<pingIntervalMs)
            mover.place(i, atNode: randomNode(), atMs: now)
            planTrip(i, toNode: randomNode())
        }
    }

    /// A random node every driver can reach and leave.
    func randomNode() -> Int { mover.randomNode() }

    /// Points driver `i` at a destination along the fastest route from where it is; where no road leads there it
    /// stops where it is, so a job there completes at once instead of never.
    func planTrip(_ i: Int, to destination: LatLng) {
        guard let node = mover.nearestReachableNode(to: destination) else { mover.park(i, atMs: clockMs); return }
        planTrip(i, toNode: node)
    }

    private func planTrip(_ i: Int, toNode node: Int) {
        if mover.send(i, toNode: node, atMs: clockMs) == nil { mover.park(i, atMs: clockMs) }
    }

    /// Moves every driver on to `nowMs` and sends the pings that are due. Returns drivers that reached the end of
    /// their trip while holding a job (the engine moves their orders along); free drivers that arrived set off to a
    /// random node. Positions are a function of time, so no step length is needed.
    func step(nowMs: Int64) -> [(index: Int, order: OrderID, pickedUp: Bool)] {
        clockMs = max(clockMs, nowMs)
        var finished: [(index: Int, order: OrderID, pickedUp: Bool)] = []
        var records: [PingRecord] = []
        for i in drivers.indices {
            if mover.isParked(i, atMs: clockMs) {
                if let job = drivers[i].job { finished.append((i, job.order, job.pickedUp)) }
                else { planTrip(i, toNode: randomNode()) }
            }
            guard clockMs >= drivers[i].nextPingMs else { continue }
            drivers[i].nextPingMs = clockMs + pingIntervalMs
            records.append(mover.fix(i, atMs: clockMs).pingRecord(driverID: drivers[i].id.rawValue, timestampMs: clockMs,
                                                                   status: drivers[i].status.rawValue))
            if records.count == 40 { send(records); records.removeAll(keepingCapacity: true) }
        }
        if !records.isEmpty { send(records) }
        return finished
    }

    private func send(_ records: [PingRecord]) {
        let bytes = PingWire.encode(records, signerID: Self.gatewayID, gateway: true, key: key)
        try? socket.send(bytes, to: target)
    }

    func index(of driver: DriverID) -> Int? {
        let first = drivers.first?.id.rawValue ?? 0
        guard driver.rawValue >= first, driver.rawValue < first + UInt64(drivers.count) else { return nil }
        return Int(driver.rawValue - first)
    }
}

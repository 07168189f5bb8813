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
        /// The planned stop the driver is driving to (its plan's first stop not yet served); nil when free.
        var target: CourierPlan.Stop?
        /// Stops reported served whose removal from the plan has not shown yet (the orders service confirms it
        /// after the store has written it), so the driver does not serve them twice.
        var served: [CourierPlan.Stop] = []
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

    /// Moves every driver on to `nowMs` and sends the pings that are due. Returns drivers that reached the planned
    /// stop they were driving to (the engine moves its order along); free drivers that arrived set off to a random
    /// node. Positions are a function of time, so no step length is needed.
    func step(nowMs: Int64) -> [(index: Int, stop: CourierPlan.Stop)] {
        clockMs = max(clockMs, nowMs)
        var arrived: [(index: Int, stop: CourierPlan.Stop)] = []
        var records: [PingRecord] = []
        for i in drivers.indices {
            if mover.isParked(i, atMs: clockMs) {
                if let stop = drivers[i].target { arrived.append((i, stop)) }
                else { planTrip(i, toNode: randomNode()) }
            }
            guard clockMs >= drivers[i].nextPingMs else { continue }
            drivers[i].nextPingMs = clockMs + pingIntervalMs
            records.append(mover.fix(i, atMs: clockMs).pingRecord(driverID: drivers[i].id.rawValue, timestampMs: clockMs,
                                                                   status: drivers[i].status.rawValue))
            if records.count == 40 { send(records); records.removeAll(keepingCapacity: true) }
        }
        if !records.isEmpty { send(records) }
        return arrived
    }

    /// Points driver `i` at the first stop of `planned` it has not served yet (a new order may have been inserted
    /// before the stop it was driving to, or one cancelled), and sets its status from the plan: on trip with an
    /// order on board, to pickup with only pickups ahead, available with nothing planned. Free drivers keep roaming.
    func follow(_ i: Int, planned: [CourierPlan.Stop]) {
        drivers[i].served.removeAll { !planned.contains($0) }
        let next = planned.first { !drivers[i].served.contains($0) }
        let onBoard = planned.contains { s in s.kind == .dropoff && !planned.contains { $0.order == s.order && $0.kind == .pickup } }
        drivers[i].status = onBoard ? .onTrip : (planned.isEmpty ? .available : .toPickup)
        guard next != drivers[i].target else { return }
        drivers[i].target = next
        if let next { planTrip(i, to: next.point) }
    }

    /// Driver `i` served `stop` (reported to the orders service); it moves on at the next `follow`.
    func served(_ i: Int, _ stop: CourierPlan.Stop) {
        drivers[i].served.append(stop)
        drivers[i].target = nil
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

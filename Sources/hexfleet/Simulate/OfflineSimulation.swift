import Dispatcher
import Engine
import Foundation
import HexGeo
import Routing
import Vocabulary

/// A day of orders and a fleet in virtual time, no sockets: orders arrive (`DemandModel`), a `DispatchRound` runs
/// every `roundSeconds` with the chosen policy and road-graph ETAs, couriers answer offers after a few seconds
/// (accepting with `acceptProbability`), drive to the pick-up (`RoadMover`), hand over, drive to the drop-off and
/// become free again. Same scenario and seed, same report, to the last digit.
struct OfflineSimulation {
    /// The scenario; every field is a `simulate` flag.
    struct Scenario: Sendable {
        var drivers = 2_000
        var durationSeconds = 3_600.0
        var seed: UInt64 = 1
        var policy = DispatchPolicy.greedyNearest
        var ordersPerMinute = 60.0
        /// Time between dispatch rounds (the batching window of both policies).
        var roundSeconds = 10.0
        var acceptProbability = 0.9
        /// Couriers answer an offer after a uniform delay in this range.
        var decisionSeconds = 2.0...10.0
        /// Time at the pick-up (handover) and at the drop-off.
        var pickupSeconds = 60.0
        var dropoffSeconds = 60.0
        /// Orders not assigned after this long are cancelled by the customer.
        var maxWaitSeconds = 1_800.0
        var hubs = 40
        var hotSpots = 3
        var hotSpotWeight = 6.0
        /// Virtual clock origin (2026-01-01T00:00:00Z), fixed so runs repeat.
        var startMs: Int64 = 1_767_225_600_000
    }

    private enum Phase: Equatable { case idle, offered, toPickup, atPickup, toDropoff }

    private struct Order {
        var created: Int64
        var pickupNode: Int
        var dropoffNode: Int
        var pickup: LatLng
        var state: State
        var courier = -1
        var etaSeconds = 0.0
        /// Predicted arrival at the pick-up and the drop-off (ms) when assigned, for the ETA error.
        var predictedMs: (pickup: Int64, dropoff: Int64) = (0, 0)
        enum State: Equatable { case waiting, offered, assigned, delivered, cancelled }
    }

    private enum EventKind { case answer(accept: Bool), arrivePickup, leavePickup, arriveDropoff, leaveDropoff }

    private struct Event: Comparable {
        var atMs: Int64
        var seq: Int
        var courier: Int
        var order: Int
        var kind: EventKind
        static func < (a: Event, b: Event) -> Bool { (a.atMs, a.seq) < (b.atMs, b.seq) }
        static func == (a: Event, b: Event) -> Bool { (a.atMs, a.seq) == (b.atMs, b.seq) }
    }

    let scenario: Scenario
    let network: RoadNetwork

    /// Runs the scenario; `progress` gets a line per simulated 10 minutes (stderr in the CLI).
    func run(progress: (String) -> Void = { _ in }) throws -> SimReport {
        let s = scenario
        let mover = try RoadMover(network: network, driverCount: s.drivers, seed: s.seed, startMs: s.startMs, hubCount: s.hubs)
        var demand = DemandModel(graph: network.graph, reachableNodes: mover.connectedNodes,
                                 ordersPerMinute: s.ordersPerMinute, startMs: s.startMs, seed: s.seed,
                                 hotSpots: s.hotSpots, hotSpotWeight: s.hotSpotWeight)
        let eta = RoutingETAProvider(network: network, speedFactor: 0.775)   // the fleet's mean speed factor (0.6…0.95)
        var rng = SimRandom(seed: s.seed, stream: 3)
        var config = DispatchConfig()
        config.maxPickupETASeconds = 1_800
        var report = SimReport()
        report.mode = "offline"
        report.policy = s.policy.simulatorName
        report.seed = s.seed
        report.drivers = s.drivers
        report.durationSeconds = s.durationSeconds
        report.ordersPerMinute = s.ordersPerMinute

        var phase = [Phase](repeating: .idle, count: s.drivers)
        var idleSince = [Int64](repeating: s.startMs, count: s.drivers)
        var assignedCount = [Int](repeating: 0, count: s.drivers)
        var orders: [Order] = []
        var waiting: [Int] = []          // order indices, arrival order
        var excluded = Set<OfferPair>()
        var heap = MinHeap<Event>()
        var seq = 0
        func schedule(_ at: Int64, _ courier: Int, _ order: Int, _ kind: EventKind) {
            seq += 1
            heap.push(Event(atMs: at, seq: seq, courier: courier, order: order, kind: kind))
        }
        let endMs = s.startMs + Int64(s.durationSeconds * 1000)
        let roundMs = max(1, Int64(s.roundSeconds * 1000))
        var nextProgressMs = s.startMs + 600_000

        var t = s.startMs
        while t <= endMs {
            // Events up to this round, in time order.
            while let e = heap.peek(), e.atMs <= t {
                _ = heap.pop()
                let c = e.courier, o = e.order
                switch e.kind {
                case .answer(let accept):
                    if accept && orders[o].state == .offered {
                        orders[o].state = .assigned
                        report.ordersAssigned += 1
                        report.pickupETAs.append(orders[o].etaSeconds)
                        let trip = (try? eta.etaSeconds(from: [orders[o].pickup], to: [network.graph.coordinate(orders[o].dropoffNode)]))?.first ?? 0
                        let atPickup = e.atMs + Int64((orders[o].etaSeconds * 1000).rounded())
                        orders[o].predictedMs = (atPickup, atPickup + Int64(((s.pickupSeconds + (trip.isFinite ? trip : 0)) * 1000).rounded()))
                        report.assignDelays.append(Double(e.atMs - orders[o].created) / 1000)
                        assignedCount[c] += 1
                        phase[c] = .toPickup
                        let seconds = mover.send(c, toNode: orders[o].pickupNode, atMs: e.atMs) ?? 0
                        schedule(e.atMs + Int64((seconds * 1000).rounded(.up)), c, o, .arrivePickup)
                    } else {
                        report.offersDeclined += 1
                        excluded.insert(OfferPair(order: OrderID(UInt64(o + 1)), courier: CourierID(UInt64(c + 1))))
                        orders[o].state = .waiting
                        orders[o].courier = -1
                        waiting.append(o)
                        phase[c] = .idle
                    }
                case .arrivePickup:
                    phase[c] = .atPickup
                    report.waits.append(Double(e.atMs - orders[o].created) / 1000)
                    report.etaErrors.pickup.append(Double(e.atMs - orders[o].predictedMs.pickup) / 1000)
                    schedule(e.atMs + Int64(s.pickupSeconds * 1000), c, o, .leavePickup)
                case .leavePickup:
                    phase[c] = .toDropoff
                    let seconds = mover.send(c, toNode: orders[o].dropoffNode, atMs: e.atMs) ?? 0
                    schedule(e.atMs + Int64((seconds * 1000).rounded(.up)), c, o, .arriveDropoff)
                case .arriveDropoff:
                    report.etaErrors.dropoff.append(Double(e.atMs - orders[o].predictedMs.dropoff) / 1000)
                    schedule(e.atMs + Int64(s.dropoffSeconds * 1000), c, o, .leaveDropoff)
                case .leaveDropoff:
                    orders[o].state = .delivered
                    report.ordersDelivered += 1
                    phase[c] = .idle
                    idleSince[c] = e.atMs
                    mover.roam(c, atMs: e.atMs)
                }
            }
            // Arrivals up to now.
            while let d = demand.next(untilMs: t) {
                let p = network.graph.coordinate(d.pickupNode)
                orders.append(Order(created: d.atMs, pickupNode: d.pickupNode, dropoffNode: d.dropoffNode,
                                    pickup: LatLng(degrees: p.latDegrees, p.lngDegrees),
                                    state: .waiting))
                waiting.append(orders.count - 1)
                report.ordersCreated += 1
            }
            // Customers give up.
            waiting.removeAll { o in
                guard Double(t - orders[o].created) / 1000 > s.maxWaitSeconds else { return false }
                orders[o].state = .cancelled
                report.ordersCancelled += 1
                return true
            }
            // The round.
            if !waiting.isEmpty {
                var snapshots: [CourierSnapshot] = []
                for c in 0..<s.drivers where phase[c] == .idle {
                    let st = mover.state(c, atMs: t)
                    snapshots.append(CourierSnapshot(
                        id: CourierID(UInt64(c + 1)), position: LatLng(degrees: st.latDegrees, st.lngDegrees),
                        idleSinceMs: idleSince[c], recentAssignments: assignedCount[c]))
                }
                if !snapshots.isEmpty {
                    let round = DispatchRound(
                        orders: waiting.map { WaitingOrder(id: OrderID(UInt64($0 + 1)), pickup: orders[$0].pickup, createdAtMs: orders[$0].created) },
                        couriers: CourierSnapshotIndex(snapshots), eta: eta, policy: s.policy, config: config, nowMs: t,
                        excludedPairs: excluded)
                    let plan = try round.run()
                    var offered = Set<Int>()
                    for a in plan.assignments {
                        let o = Int(a.order.rawValue) - 1, c = Int(a.courier.rawValue) - 1
                        orders[o].state = .offered
                        orders[o].courier = c
                        orders[o].etaSeconds = a.pickupETASeconds
                        phase[c] = .offered
                        offered.insert(o)
                        let delay = s.decisionSeconds.lowerBound + (s.decisionSeconds.upperBound - s.decisionSeconds.lowerBound) * rng.unit()
                        schedule(t + Int64(delay * 1000), c, o, .answer(accept: rng.chance(s.acceptProbability)))
                    }
                    waiting.removeAll { offered.contains($0) }
                }
            }
            if t >= nextProgressMs {
                progress("t=\((t - s.startMs) / 1000) s orders=\(report.ordersCreated) assigned=\(report.ordersAssigned) delivered=\(report.ordersDelivered) waiting=\(waiting.count)")
                nextProgressMs += 600_000
            }
            t += roundMs
        }
        return report
    }
}

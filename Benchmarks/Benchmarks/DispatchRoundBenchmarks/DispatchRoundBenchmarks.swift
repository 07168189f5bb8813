import Benchmark
import Dispatcher
import Engine
import Foundation
import Routing
import Vocabulary

// The engine's dispatch round on the Monaco road graph, as `DispatchService` runs it on a worker, beside its
// baseline in the same run:
//   round-monaco/stacked/500x2000   the stacking round (`StackingRoundInput.run`: straight-line candidate choice,
//                                   insertions priced on road times, one exact matching)
//   round-monaco/stacked-delay/500x2000   the same round with the delay price on (the engine's default
//                                   `--dispatch-delay-weight` 0.8: every insertion position priced by travel + delay)
//   round-monaco/single/500x2000    today's one-order round on the same couriers and orders (`DispatchRound`,
//                                   batch-optimal, one road ETA matrix from `RoutingETAProvider`): idle couriers only
//   round-monaco/stacked-pairs/500x2000   the previous stacking round's road legs (one node-to-node CH query per
//                                   pair, cached by node pair) under the same StackingRound, for the speed-up
// Lunch peak: 500 waiting orders from 60 restaurants, 2,000 couriers of whom 60 % already hold an order (on board,
// or promised pickup and drop-off), every point a random Monaco road node. Data: fixtures/monaco.osm.pbf, else
// ../shared/data/osm/monaco.osm.pbf.

/// The road legs of the stacking round before search spaces: each location on its nearest road node, one CH query per
/// node pair on first read, cached. Kept here as the same-run baseline of `round-monaco/stacked`.
final class NodePairTravelTimes: TravelTimes, @unchecked Sendable {
    let locationCount: Int
    private let nodes: [Int32]
    private var query: RouteQuery
    private var cache: [UInt64: Double] = [:]
    private(set) var queries = 0

    init(points: [LatLng], network: RoadNetwork) {
        query = network.makeQuery(weights: network.freeFlow)
        nodes = points.map { p in
            guard let snap = network.snapIndex.snap(p), let first = snap.edges.first else { return -1 }
            return Int32(first.fraction < 0.5 ? network.snapIndex.tail(of: first.edge) : Int(network.graph.forwardHeads[first.edge]))
        }
        locationCount = points.count
    }

    func seconds(_ from: Int, _ to: Int) -> Double {
        if from == to { return 0 }
        let a = nodes[from], b = nodes[to]
        if a < 0 || b < 0 { return .infinity }
        if a == b { return 0 }
        let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
        if let known = cache[key] { return known }
        queries += 1
        let value = query.durationMs(fromNode: Int(a), toNode: Int(b)).map { Double($0) / 1000 } ?? .infinity
        cache[key] = value
        return value
    }
}

enum MonacoRound {
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()
    static var monacoPath: String {
        let fixture = repoRoot.appendingPathComponent("fixtures/monaco.osm.pbf").path
        if FileManager.default.fileExists(atPath: fixture) { return fixture }
        let shared = ProcessInfo.processInfo.environment["HEXFLEET_SHARED_DATA"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
        return shared.appendingPathComponent("osm/monaco.osm.pbf").path
    }

    /// The lunch peak on Monaco's roads (seeded), as the engine would build it: the stacking input and the same
    /// waiting orders and idle couriers for the single-order round.
    static func lunchPeak(network: RoadNetwork, orders: Int, couriers: Int, seed: UInt64)
        -> (stacking: StackingRoundInput, waiting: [WaitingOrder], idle: [CourierSnapshot]) {
        var g = SplitMix64(seed: seed)
        let n = network.graph.nodeCount
        var points: [LatLng] = []
        func point() -> Int {
            points.append(network.graph.coordinate(Int(g.next() % UInt64(n))))
            return points.count - 1
        }
        let restaurants = (0..<60).map { _ in point() }
        var planOrders: [PlanOrder] = [], planCouriers: [PlanCourier] = [], idle: [CourierSnapshot] = []
        var nextID: UInt64 = 1
        func newOrder() -> PlanOrder {
            defer { nextID += 1 }
            return PlanOrder(id: OrderID(nextID), pickup: restaurants[Int(g.next() % 60)], dropoff: point(),
                             readyAt: Double(g.next() % 900), deadline: 2_700, maxRide: 2_400, service: 60)
        }
        for k in 0..<couriers {
            let id = CourierID(UInt64(k + 1))
            var courier = PlanCourier(id: id, start: point(), availableAt: 0, capacity: g.next() % 10 < 7 ? 3 : 2)
            if g.next() % 10 < 6 {
                var first = newOrder()
                first.deadline = 7_200; first.maxRide = 7_200
                planOrders.append(first)
                courier.stops = g.next() % 2 == 0 ? [PlanStop(order: first.id, kind: .dropoff)]
                    : [PlanStop(order: first.id, kind: .pickup), PlanStop(order: first.id, kind: .dropoff)]
            } else {
                idle.append(CourierSnapshot(id: id, position: points[courier.start], vehicle: .car))
            }
            planCouriers.append(courier)
        }
        var waiting: [WaitingOrder] = []
        for _ in 0..<orders {
            let o = newOrder()
            planOrders.append(o)
            waiting.append(WaitingOrder(id: o.id, pickup: points[o.pickup], createdAtMs: 0))
        }
        let instance = PlanInstance(locationCount: points.count, matrix: [], couriers: planCouriers, orders: planOrders)
        return (StackingRoundInput(instance: instance, points: points, network: network, weights: network.freeFlow), waiting, idle)
    }
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(10), maxIterations: 100)
    guard let network = try? RoadNetwork.importPBF(path: MonacoRound.monacoPath) else {
        print("round-monaco: no Monaco extract at \(MonacoRound.monacoPath)")
        return
    }
    let peak = MonacoRound.lunchPeak(network: network, orders: 500, couriers: 2_000, seed: 7)
    switch Result(catching: { try peak.stacking.run() }) {
    case .success(let out):
        let carrying = Set(peak.stacking.instance.couriers.filter { !$0.stops.isEmpty }.map(\.id))
        let stacked = out.proposals.filter { carrying.contains($0.proposal.courier) }.count
        print("round-monaco/stacked/500x2000: \(out.proposals.count) proposals, \(stacked) onto couriers already holding an order, "
              + "\(out.roadQueries) road legs from \(out.searchSpaces) search spaces")
    case .failure(let error):
        print("round-monaco/stacked/500x2000: the round fails: \(error)")
    }
    Benchmark("round-monaco/stacked/500x2000", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? peak.stacking.run()) }
    }
    let delayPriced = { var input = peak.stacking; input.delayWeight = 0.8; return input }()
    if let out = try? delayPriced.run() {
        print("round-monaco/stacked-delay/500x2000: \(out.proposals.count) proposals")
    }
    Benchmark("round-monaco/stacked-delay/500x2000", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? delayPriced.run()) }
    }
    let input = peak.stacking
    let selection = StraightLineTravelTimes(latLng: input.points.map { ($0.latDegrees, $0.lngDegrees) }, speedMetersPerSecond: 30 / 3.6 / 1.3)
    let pairs = NodePairTravelTimes(points: input.points, network: network)
    if let proposals = try? StackingRound.run(input.instance, travel: pairs, selection: selection) {
        print("round-monaco/stacked-pairs/500x2000: \(proposals.count) proposals, \(pairs.queries) node-pair queries")
    }
    Benchmark("round-monaco/stacked-pairs/500x2000", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? StackingRound.run(input.instance, travel: NodePairTravelTimes(points: input.points, network: network), selection: selection))
        }
    }
    let single = DispatchRound(orders: peak.waiting, couriers: CourierSnapshotIndex(peak.idle),
                               eta: RoutingETAProvider(network: network), policy: .batchOptimal, nowMs: 0)
    if let plan = try? single.run() { print("round-monaco/single/500x2000: \(plan.assignments.count) assignments") }
    Benchmark("round-monaco/single/500x2000", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? single.run()) }
    }
}

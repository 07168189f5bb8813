import Dispatcher
import EventLoop
import FleetIndex
import Foundation
import HexGeo
import Logging
import Vocabulary

/// The demo, when configured: a simulated fleet on the loaded road network pinging over real UDP, and demo
/// customers placing real orders. Its orders are durable orders (they show in `GET /v1/orders`), dispatched by the
/// same rounds as any other; its couriers answer offers the way the driver channel does (stacked ones included),
/// drive the stops dispatch planned for them in order, and report each pick-up and drop-off through the orders
/// service as a courier's app would.
/// Loop-owned.
final class DemoService: EngineService {
    /// The customer the demo's orders are placed for.
    static let customer = CustomerID(900_000)

    private let configuration: EngineConfiguration
    private let roads: RoadState
    private let ingest: IngestService
    private let dispatch: DispatchService
    private let orders: OrdersService
    private let keys: PingKeys
    private let loop: Loop
    private let clock: EngineClock
    private let logger: Logger
    private var fleet: DemoFleet?
    private var fleetFailed = false
    private var nextOrderMs: Int64 = 0
    /// Offers the demo couriers will answer, and when: a person takes a moment to tap.
    private var pendingAnswers: [(atMs: Int64, order: OrderID, courier: CourierID, accept: Bool)] = []

    init(configuration: EngineConfiguration, roads: RoadState, ingest: IngestService, dispatch: DispatchService,
         orders: OrdersService, keys: PingKeys, loop: Loop, clock: EngineClock, logger: Logger) {
        self.configuration = configuration
        self.roads = roads
        self.ingest = ingest
        self.dispatch = dispatch
        self.orders = orders
        self.keys = keys
        self.loop = loop
        self.clock = clock
        self.logger = logger
        dispatch.onOfferEvent { [unowned self] event in self.offerEvent(event) }
    }

    private func offerEvent(_ event: OfferEvent) {
        guard let fleet else { return }
        switch event {
        case .offered(let offer):
            guard fleet.index(of: offer.courier) != nil else { return }
            // One in ten declines. Dispatch offers a courier an order only where its plan has room, so a demo
            // courier takes stacked offers too (the console then shows one courier with several orders).
            let declines = Int.random(in: 0..<10) == 0
            let delay = declines ? 1_500 : Int64.random(in: 800...3_000)
            pendingAnswers.append((clock.nowMs + delay, offer.order.id, offer.courier, !declines))
        case .accepted(_, let courier, _):
            // The accepted order is in the courier's plan now, at the insertion it was offered at.
            guard let i = fleet.index(of: courier) else { return }
            fleet.follow(i, planned: dispatch.plannedStops(of: courier))
        case .declined, .expired, .withdrawn, .returnedToQueue:
            break
        }
    }

    func tick(nowMs now: Int64) {
        guard let fleet else {
            startFleet()
            return
        }
        while let first = pendingAnswers.first, first.atMs <= now {
            pendingAnswers.removeFirst()
            // The offer may be gone (expired, withdrawn); the answer is then refused like any late tap.
            try? dispatch.answerOffer(order: first.order, courier: first.courier, accept: first.accept)
        }
        // A demo courier drives its planned stops in order and reports each as a courier's app would; the plan
        // drops the stop once the orders service has recorded it.
        for (i, stop) in fleet.step(nowMs: now) {
            let courier = fleet.drivers[i].id
            switch stop.kind {
            case .pickup: orders.courierPickedUp(stop.order, by: courier)
            case .dropoff: orders.courierDelivered(stop.order, by: courier)
            }
            fleet.served(i, stop)
        }
        for i in fleet.drivers.indices where fleet.drivers[i].target != nil || !fleet.drivers[i].served.isEmpty
            || fleet.drivers[i].status != .available {
            fleet.follow(i, planned: dispatch.plannedStops(of: fleet.drivers[i].id))
        }
        placeOrders(nowMs: now)
    }

    func stop() {
        fleet?.socket.close()
    }

    /// Makes the fleet once the UDP listener is bound (the fleet pings it over loopback).
    private func startFleet() {
        guard fleet == nil, !fleetFailed, let target = ingest.udpAddress else { return }
        let loopback = try? SocketAddress(host: target.isIPv6 ? "::1" : "127.0.0.1", port: target.port)
        do {
            fleet = try DemoFleet(network: roads.network, count: configuration.demoDrivers, loop: loop,
                                  target: loopback ?? target, keys: keys)
        } catch {
            fleetFailed = true
            logger.error("demo fleet failed to start", metadata: ["error": "\(error)"])
            return
        }
        logger.info("demo fleet started", metadata: ["drivers": "\(configuration.demoDrivers)"])
    }

    /// Demo demand: an order every few seconds between random road points, placed as a customer would.
    private func placeOrders(nowMs: Int64) {
        guard let fleet, nowMs >= nextOrderMs else { return }
        nextOrderMs = nowMs + Int64.random(in: 1_500...5_000)
        let pickup = fleet.network.graph.coordinate(fleet.randomNode())
        let dropoff = fleet.network.graph.coordinate(fleet.randomNode())
        orders.placeOrder(for: Self.customer, from: E7Point(pickup), to: E7Point(dropoff))
    }
}

import Dispatcher
import EventLoop
import FleetIndex
import Foundation
import HexGeo
import Logging
import Vocabulary

/// The demo, when configured: a simulated fleet on the loaded road network pinging over real UDP, and demo
/// customers placing real orders. Its orders are durable orders (they show in `GET /v1/orders`), dispatched by the
/// same rounds as any other; its couriers answer offers the way the driver channel does, then drive to the
/// pick-up and on to the drop-off, and report both through the orders service as a courier's app would.
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
            guard let i = fleet.index(of: offer.courier) else { return }
            fleet.pendingPickups[offer.order.id] = offer.order.pickup
            // One in ten declines; a demo courier drives one job at a time, so it declines stacked offers too.
            let declines = Int.random(in: 0..<10) == 0 || fleet.drivers[i].job != nil
            let delay = declines ? 1_500 : Int64.random(in: 800...3_000)
            pendingAnswers.append((clock.nowMs + delay, offer.order.id, offer.courier, !declines))
        case .accepted(let order, let courier, _):
            guard let i = fleet.index(of: courier),
                  let pickup = fleet.pendingPickups.removeValue(forKey: order) else { return }
            fleet.drivers[i].status = .toPickup
            // The order's own drop-off: an order placed through the API is delivered where its customer asked.
            let dropoff = orders.dropoff(of: order) ?? fleet.network.graph.coordinate(fleet.randomNode())
            fleet.drivers[i].job = (order, false, dropoff)
            fleet.planTrip(i, to: pickup)
        case .declined(let order, _, _), .expired(let order, _, _), .withdrawn(let order, _, _):
            fleet.pendingPickups[order] = nil
        case .returnedToQueue:
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
        for done in fleet.step(nowMs: now) {
            let courier = fleet.drivers[done.index].id
            if done.pickedUp {
                fleet.drivers[done.index].job = nil
                fleet.drivers[done.index].status = .available
                orders.courierDelivered(done.order, by: courier)
                fleet.planTrip(done.index, to: fleet.network.graph.coordinate(fleet.randomNode()))
            } else if let job = fleet.drivers[done.index].job {
                fleet.drivers[done.index].job = (job.order, true, job.dropoff)
                fleet.drivers[done.index].status = .onTrip
                orders.courierPickedUp(done.order, by: courier)
                fleet.planTrip(done.index, to: job.dropoff)
            }
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

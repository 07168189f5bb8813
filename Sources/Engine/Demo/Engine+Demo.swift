import Dispatcher
import EventLoop
import FleetIndex
import Foundation
import HexGeo
import Vocabulary

extension Engine {
    /// In demo mode: a simulated fleet on the loaded road network, pinging over real UDP; demo couriers accept
    /// the offers dispatch sends them, drive to the pick-up and on to a drop-off, and become available again.
    func installDemo() throws {
        guard configuration.demo, let routing, configuration.demoDrivers > 0 else { return }
        var fleet: DemoFleet?
        var lastMs: Int64 = 0
        var pendingAccepts: [(atMs: Int64, order: UInt64, courier: UInt64)] = []
        offerListeners.append { [unowned self] event in
            guard case .offered(let offer) = event, let fleet, fleet.index(of: offer.courier.rawValue) != nil else { return }
            // A person takes a moment to tap "accept"; one in ten declines.
            if Int.random(in: 0..<10) == 0 {
                pendingAccepts.append((self.nowMs + 1_500, offer.order.id.rawValue, UInt64.max - offer.courier.rawValue))
            } else {
                pendingAccepts.append((self.nowMs + Int64.random(in: 800...3_000), offer.order.id.rawValue, offer.courier.rawValue))
            }
        }
        offerListeners.append { event in
            guard case .accepted(let order, let courier, _) = event, let fleet, let i = fleet.index(of: courier.rawValue),
                  let offerPickup = fleet.pendingPickups.removeValue(forKey: order.rawValue) else { return }
            fleet.drivers[i].status = .toPickup
            fleet.drivers[i].job = (order.rawValue, false, fleet.network.graph.coordinate(fleet.randomNode()))
            fleet.planTrip(i, to: offerPickup)
        }
        offerListeners.append { event in
            guard case .offered(let offer) = event, let fleet else { return }
            fleet.pendingPickups[offer.order.id.rawValue] = offer.order.pickup
        }
        tickHandlers.append { [unowned self] now in
            if fleet == nil {
                guard let target = self.udpAddress else { return }
                let loopback = try? SocketAddress(host: target.isIPv6 ? "::1" : "127.0.0.1", port: target.port)
                fleet = try? DemoFleet(network: routing.network, count: self.configuration.demoDrivers, loop: self.loop,
                                       target: loopback ?? target, keys: self.keys)
                lastMs = now
                self.logger.info("demo fleet started", metadata: ["drivers": "\(self.configuration.demoDrivers)"])
                return
            }
            guard let fleet else { return }
            while let first = pendingAccepts.first, first.atMs <= now {
                pendingAccepts.removeFirst()
                if first.courier > UInt64.max / 2 {
                    try? self.answerOffer(order: first.order, courier: UInt64.max - first.courier, accept: false)
                } else {
                    try? self.answerOffer(order: first.order, courier: first.courier, accept: true)
                }
            }
            for done in fleet.step(dtMs: now - lastMs, nowMs: now) {
                if done.pickedUp {
                    fleet.drivers[done.index].job = nil
                    fleet.drivers[done.index].status = .available
                    self.demoOrderDelivered(order: done.order, courier: fleet.drivers[done.index].id)
                    fleet.planTrip(done.index, to: fleet.network.graph.coordinate(fleet.randomNode()))
                } else if let job = fleet.drivers[done.index].job {
                    fleet.drivers[done.index].job = (job.order, true, job.dropoff)
                    fleet.drivers[done.index].status = .onTrip
                    self.demoOrderPickedUp(order: done.order, courier: fleet.drivers[done.index].id)
                    fleet.planTrip(done.index, to: job.dropoff)
                }
            }
            lastMs = now
            self.demoOrderArrivals(now: now, fleet: fleet)
        }
        stopHandlers.append { fleet?.socket.close() }
    }

    /// Demo demand: about one order every few seconds at random road points, queued for dispatch (the orders
    /// module, when installed, creates durable orders instead via `demoCreateOrder`).
    private func demoOrderArrivals(now: Int64, fleet: DemoFleet) {
        guard now >= demoNextOrderMs else { return }
        demoNextOrderMs = now + Int64.random(in: 1_500...5_000)
        let pickup = fleet.network.graph.coordinate(fleet.randomNode())
        let dropoff = fleet.network.graph.coordinate(fleet.randomNode())
        if let create = demoCreateOrder {
            create(pickup, dropoff)
        } else {
            // Demo-only ids live far above durable order ids, so the orders module never mistakes them for its own.
            demoOrderSequence += 1
            enqueueForDispatch(WaitingOrder(id: OrderID((1 << 62) + demoOrderSequence), pickup: LatLng(degrees: pickup.latDegrees,
                                             pickup.lngDegrees), createdAtMs: now))
        }
    }

    private func demoOrderPickedUp(order: UInt64, courier: UInt64) {
        demoOrderEvents?(order, courier, false)
    }

    private func demoOrderDelivered(order: UInt64, courier: UInt64) {
        if let events = demoOrderEvents { events(order, courier, true) } else { releaseCourier(courier, order: order) }
    }
}

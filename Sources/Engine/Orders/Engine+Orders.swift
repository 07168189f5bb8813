import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import Marketplace
import Storage
import Vocabulary

extension Engine {
    /// Opens the store (once, in `configuration.dataDirectory`, or a fresh temporary directory), builds pricing,
    /// surge, ratings and notifications, reloads the live orders into dispatch, and registers the order, quote,
    /// surge and rating endpoints, the hooks the tracking hub reads, the tick and the stop work.
    func installOrders() throws {
        let dir: String
        if let d = configuration.dataDirectory {
            dir = d
        } else {
            dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("hexfleet-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
            logger.info("no data directory configured; orders live in a temporary directory", metadata: ["path": "\(dir)"])
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir + "/hexfleet.sqlite", configuration: storeConfiguration)
        do {
            try installOrders(store: store, dataDirectory: dir, temporary: configuration.dataDirectory == nil)
        } catch {
            store.close()
            throw error
        }
    }

    private func installOrders(store: SQLiteStore, dataDirectory dir: String, temporary: Bool) throws {
        // A pricing.json in the data directory overrides the repository's fixtures/pricing.json.
        let local = dir + "/pricing.json"
        let fares = try FareConfig.load(path: FileManager.default.fileExists(atPath: local) ? local
                                            : Self.fixturePath("pricing.json") ?? local)
        let zones = H3ZoneKeyer(resolution: 8)
        let surge = SurgeMap(config: fares.surge, keyer: zones)
        let pricer = Pricer(config: fares, routes: LoopRouteCosts(engine: self), surge: surge, keyer: zones)

        // The mailbox exists before the service (the push sink needs its sender); its handler finds the
        // service through a weak box filled in below.
        let box = OrdersServiceBox()
        let wakeup = try AsyncWakeup<OrderMail>(loop: loop) { [box] mail in box.service?.receive(mail) }
        wakeup.keepsLoopAlive = false

        let log = try LogSink(path: dir + "/notifications.log")
        var sinks: [any NotificationSink] = [log, WebSocketPushSink(transport: OrderPushTransport(mailbox: wakeup.sender))]
        var webhooks: WebhookSink?
        let urls = webhookURLs
        if !urls.isEmpty {
            let secret = webhookSecret ?? []
            if secret.isEmpty { logger.warning("HEXFLEET_WEBHOOK_URLS is set without HEXFLEET_WEBHOOK_SECRET: webhooks are signed with an empty key") }
            let sink = WebhookSink(configuration: .init(endpoints: urls), store: store, transport: HTTPWebhookTransport(),
                                   signer: .hmacSHA256(secret: secret))
            try sink.start()
            sinks.append(sink)
            webhooks = sink
            logger.info("webhooks on", metadata: ["endpoints": "\(urls.count)"])
        }
        let notifier = Notifier(sinks: sinks)
        let ratings = try RatingBook(store: store, notifier: notifier)
        // Ratings feed dispatch's optional rating term: a star above or below 3 is worth 20 s of pickup ETA.
        dispatch?.courierRating = { ratings.courierScore(CourierID($0)) }
        dispatch?.config.costModel.ratingSecondsPerStar = 20
        let service = OrdersService(engine: self, store: store, dataDirectory: dir, zones: zones, surge: surge, pricer: pricer,
                                    notifier: notifier, webhooks: webhooks, ratings: ratings, wakeup: wakeup)
        box.service = service
        service.removeDataDirectoryOnClose = temporary

        try service.reload()
        hooks.courierOfOrder = { [unowned service] id in
            guard let o = service.live[id], o.status == .dispatched || o.status == .accepted || o.status == .pickedUp,
                  let c = o.courier else { return nil }
            return DriverID(c)
        }
        hooks.customerOfOrder = { [unowned service] id in
            if let o = service.live[id] { return String(o.customer) }
            return (try? service.store.order(OrderID(id))).flatMap { $0 }.map { String($0.customerID.rawValue) }
        }
        offerListeners.append { [unowned service] event in service.offerEvent(event) }
        tickHandlers.append { [unowned service] now in service.tick(nowMs: now) }
        stopHandlers.append { service.close() }
        extraRoutes.append { engine in
            engine.route(.post, "/v1/quotes") { _ in service.postQuote }
            engine.route(.get, "/v1/surge") { _ in service.getSurge }
            engine.route(.post, "/v1/orders") { _ in service.postOrder }
            engine.route(.get, "/v1/orders") { _ in service.listOrders }
            engine.route(.get, "/v1/orders/{id}") { _ in service.getOrder }
            engine.route(.post, "/v1/orders/{id}/cancel") { _ in { try service.postTransition($0, $1, .cancel) } }
            engine.route(.post, "/v1/orders/{id}/pickup") { _ in { try service.postTransition($0, $1, .pickUp) } }
            engine.route(.post, "/v1/orders/{id}/deliver") { _ in { try service.postTransition($0, $1, .deliver) } }
            engine.route(.post, "/v1/orders/{id}/fail") { _ in { try service.postTransition($0, $1, .fail) } }
            engine.route(.post, "/v1/orders/{id}/rating") { _ in service.postRating }
            engine.route(.get, "/v1/couriers/{id}/rating") { _ in { try service.getRating($0, $1, kind: .courier) } }
            engine.route(.get, "/v1/customers/{id}/rating") { _ in { try service.getRating($0, $1, kind: .customer) } }
        }
    }
}

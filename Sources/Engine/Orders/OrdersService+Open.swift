import EventLoop
import FleetIndex
import Foundation
import HTTPServer
import Logging
import Routing
import Marketplace
import Storage
import Vocabulary

extension OrdersService {
    /// Opens the store (in `configuration.dataDirectory`, or a fresh temporary directory), builds pricing, surge,
    /// ratings and notifications, follows dispatch's offers and reloads the live orders into dispatch.
    static func open(configuration: EngineConfiguration, dispatch: DispatchService, drivers: DriverChannel,
                     auth: Authenticator, roads: RoadState?, table: DriverTable, loop: Loop, workers: WorkQueue,
                     clock: EngineClock, metrics: EngineMetrics, logger: Logger,
                     profileRoads: [RoutingProfile: RoadState] = [:], fence: (any OrderWriteFence)? = nil) throws -> OrdersService {
        try checkWebhookURLs(configuration.webhookURLs)
        let dir: String
        if let d = configuration.dataDirectory {
            dir = d
        } else {
            dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("hexfleet-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
            logger.info("no data directory configured; orders live in a temporary directory", metadata: ["path": "\(dir)"])
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var storeConfiguration = StoreConfiguration()
        storeConfiguration.groupCommit = configuration.storeGroupCommit
        if !configuration.storeSynchronousFull { storeConfiguration.synchronous = .normal }
        storeConfiguration.outbox = !configuration.natsServers.isEmpty
        storeConfiguration.fence = fence
        if fence != nil {
            // Shards dispatch independently: the store's courier slots keep a courier within its capacity across them.
            storeConfiguration.courierCapacity = configuration.dispatchStacking ? DispatchService.capacity(of: .car) : 1
        }
        let store: any Store & FenceStore
        if let url = configuration.postgresURL {
            store = try PostgresStore(url: url, configuration: storeConfiguration)
            // A keyword string ("host=… password=…") has no scheme to keep: name nothing of it.
            let shown = url.contains("://") ? redactedURL(url) : "a libpq keyword string"
            logger.info("orders in PostgreSQL", metadata: ["server": "\(shown)"])
        } else {
            store = try SQLiteStore(path: dir + "/hexfleet.sqlite", configuration: storeConfiguration)
        }
        do {
            // Everything the engine reloads, read on worker threads while this (the loop's) thread waits.
            let snapshot = try StartupSnapshot.read(store)
            // A pricing.json in the data directory overrides the repository's fixtures/pricing.json.
            let local = dir + "/pricing.json"
            let fares = try FareConfig.load(path: FileManager.default.fileExists(atPath: local) ? local
                                                : Fixtures.path("pricing.json") ?? local)
            let zones = H3ZoneKeyer(resolution: 8)
            let surge = SurgeMap(config: fares.surge, keyer: zones)
            let pricer = Pricer(config: fares, routes: LoopRouteCosts(roads: roads, profileRoads: profileRoads, loop: loop), surge: surge, keyer: zones)

            // The mailbox exists before the service (the push sink needs its sender); its handler finds the
            // service through a weak box filled in below.
            let box = OrdersServiceBox()
            let wakeup = try AsyncWakeup<OrderMail>(loop: loop) { [box] mail in box.service?.receive(mail) }
            wakeup.keepsLoopAlive = false

            let log = try LogSink(path: dir + "/notifications.log")
            var sinks: [any NotificationSink] = [log, WebSocketPushSink(transport: OrderPushTransport(mailbox: wakeup.sender))]
            // One sink delivers every webhook: the configured endpoints' notifications and each fence's own
            // webhook (`post(to:…)`), so they share the durable queue, the signature and the retries.
            let urls = configuration.webhookURLs
            let secret = configuration.webhookSecret ?? []
            var webhookConfiguration = WebhookSink.Configuration(endpoints: urls)
            // With NATS, order events reach webhooks through the stream's durable consumer (docs/events.md).
            if !configuration.natsServers.isEmpty { webhookConfiguration.events.subtract(WebhookStreamConsumer.eventNames) }
            let webhooks: WebhookSink? = WebhookSink(configuration: webhookConfiguration, store: store,
                                                     transport: HTTPWebhookTransport(), signer: .hmacSHA256(secret: secret))
            try webhooks?.start(pending: snapshot.pendingWebhooks)
            if let sink = webhooks, !urls.isEmpty {
                if secret.isEmpty { logger.warning("webhook URLs are set without a webhook secret: webhooks are signed with an empty key") }
                sinks.append(sink)
                logger.info("webhooks on", metadata: ["endpoints": "\(urls.count)"])
            }
            let notifier = Notifier(sinks: sinks)
            let ratings = RatingBook(store: store, notifier: notifier, totals: snapshot.ratingTotals)
            // Ratings feed dispatch's optional rating term: a star above or below 3 is worth 20 s of pickup ETA.
            dispatch.useCourierRatings(secondsPerStar: 20) { ratings.courierScore($0) }
            let service = OrdersService(store: store, dataDirectory: dir, zones: zones, surge: surge, pricer: pricer,
                                        notifier: notifier, webhooks: webhooks, ratings: ratings, wakeup: wakeup,
                                        dispatch: dispatch, drivers: drivers, auth: auth, roads: roads, table: table,
                                        workers: workers, clock: clock, metrics: metrics, logger: logger,
                                        publicTracking: configuration.demo)
            box.service = service
            service.removeDataDirectoryOnClose = configuration.dataDirectory == nil
            service.maxLiveOrdersPerCustomer = configuration.limits.maxLiveOrdersPerCustomer
            dispatch.onOfferEvent { [unowned service] event in service.offerEvent(event) }
            dispatch.whenAnswerWritten = { [unowned service] id, reply in service.whenAnswerWritten(id, reply) }
            dispatch.useOrderDetails { [unowned service] id in service.dispatchDetails(id) }
            dispatch.onETAChange { [unowned service] order, message in service.tellWatchers(order, message) }
            service.startupFences = snapshot.fences
            // A shard takes orders as it gains their partitions (ShardService), not all of them at start.
            if fence == nil { service.reload(snapshot.liveOrders) }
            return service
        } catch {
            store.close()
            throw error
        }
    }

    /// Refuses, before anything opens, a webhook URL the transport cannot post to: `HTTPWebhookTransport` speaks
    /// plain HTTP, so an `https://` endpoint would be accepted here and then fail every delivery until it was
    /// dead-lettered. The error names the URL by scheme and host only: a path or query often holds the receiver's
    /// token, and start-up errors end up in terminals and CI logs.
    /// - Throws: `MarketplaceError(.invalidConfig)` for the first URL refused.
    static func checkWebhookURLs(_ urls: [String]) throws(MarketplaceError) {
        for (i, url) in urls.enumerated() where !HTTPWebhookTransport.canPost(to: url) {
            let shown = redactedURL(url)
            let why = url.lowercased().hasPrefix("https://")
                ? "https is not supported: the webhook transport speaks plain HTTP (put a TLS-terminating proxy in front, or use an http:// URL)"
                : "it is not an http://host[:port][/path] URL"
            throw MarketplaceError(.invalidConfig,
                                   "webhook URL \(i + 1) of \(urls.count) (HEXFLEET_WEBHOOK_URLS), \(shown), is refused: \(why)")
        }
    }

    /// `scheme://host[:port]`, then `/…` if anything followed; user info dropped. Unparseable text is cut to 40
    /// characters.
    static func redactedURL(_ url: String) -> String {
        guard let sep = url.range(of: "://") else { return url.count > 40 ? String(url.prefix(40)) + "…" : url }
        let rest = url[sep.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(url[..<sep.upperBound]) + String(authority) + (end == rest.endIndex ? "" : "/…")
    }
}

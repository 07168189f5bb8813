import FleetIndex
import HTTPServer
import HexGeo
import JSON
import Marketplace
import Storage
import Vocabulary

extension OrdersService {
    // MARK: - request parsing

    /// The store's actor for a verified caller.
    func actor(_ p: Principal) throws(APIError) -> ActorRef {
        switch p.role {
        case .admin: return ActorRef(.admin, 0)
        case .dispatcher: return ActorRef(.dispatcher, p.name.flatMap { UInt64($0) } ?? 0)
        case .driver:
            guard let id = p.driverID else { throw APIError(.forbidden, "a driver token names a numeric driver id") }
            return ActorRef(.courier, id.rawValue)
        case .customer:
            guard let id = p.customerID else { throw APIError(.forbidden, "a customer token names no valid customer id") }
            return ActorRef(customer: id)
        }
    }

    /// A JSON object body (an empty body reads as `{}` when `emptyIsObject`).
    static func object(_ request: HTTPRequest, emptyIsObject: Bool = false) throws(APIError) -> JSONValue {
        if emptyIsObject && request.body.isEmpty { return .object([]) }
        let body = try request.json()
        guard case .object = body else { throw APIError(.invalidJSON, "the body must be a JSON object") }
        return body
    }

    /// A point as `{"lat":…,"lng":…}` or `[lat, lng]`.
    static func point(_ v: JSONValue?, _ name: String) throws(APIError) -> E7Point? {
        guard let v, !v.isNull else { return nil }
        let lat: Double?, lng: Double?
        if let pair = v.array {
            guard pair.count == 2 else { throw APIError(.invalidParameter, "\(name) must be {\"lat\":…,\"lng\":…}") }
            lat = pair[0].double; lng = pair[1].double
        } else if case .object = v {
            lat = v["lat"]?.double; lng = v["lng"]?.double
        } else {
            throw APIError(.invalidParameter, "\(name) must be {\"lat\":…,\"lng\":…}")
        }
        guard let lat, let lng else { throw APIError(.invalidParameter, "\(name) needs numeric lat and lng") }
        guard let p = E7Point(latDegrees: lat, lngDegrees: lng) else {
            throw APIError(.invalidCoordinate, "\(name): lat must be in [-90, 90] and lng in [-180, 180]")
        }
        return p
    }

    /// An optional string field of bounded length.
    static func string(_ body: JSONValue, _ key: String, max: Int) throws(APIError) -> String? {
        guard let v = body[key], !v.isNull else { return nil }
        guard let s = v.string, !s.isEmpty, s.utf8.count <= max else {
            throw APIError(.invalidParameter, "\(key) must be a string of 1–\(max) bytes")
        }
        return s
    }

    /// The customer a request acts for: a customer token acts for itself (`customer_id`, if given, must be its
    /// subject); admin and dispatcher tokens name the customer.
    func customer(_ body: JSONValue, caller: Principal) throws(APIError) -> CustomerID {
        var given: CustomerID?
        if let v = body["customer_id"], !v.isNull { given = try Self.customerID(v) }
        if caller.role == .customer {
            guard let me = caller.customerID else { throw APIError(.forbidden, "a customer token names no valid customer id") }
            if let given, given != me { throw APIError(.forbidden, "a customer acts only for itself") }
            return me
        }
        guard let given else { throw APIError(.invalidParameter, "customer_id is required") }
        return given
    }

    /// A customer id from JSON: a string of 1–64 bytes from `[A-Za-z0-9._:@-]`; a non-negative integer is still
    /// taken (as its decimal text) so clients of the numeric-id era keep working.
    /// - Throws: `invalid_customer_id` (400) for anything else.
    static func customerID(_ v: JSONValue) throws(APIError) -> CustomerID {
        if let text = v.string {
            guard let id = CustomerID(rawValue: text) else { throw invalidCustomerID }
            return id
        }
        guard let number = v.uint64 else { throw invalidCustomerID }
        return CustomerID(number)
    }

    /// A customer id from a path or query parameter.
    static func customerID(text: String) throws(APIError) -> CustomerID {
        guard let id = CustomerID(rawValue: text) else { throw invalidCustomerID }
        return id
    }

    static var invalidCustomerID: APIError {
        APIError(.invalidCustomerID, "customer_id must be 1–64 bytes from [A-Za-z0-9._:@-]")
    }

    /// `ready_in_s`, `deadline_s`, `max_ride_s`: each optional, a whole number of seconds (`null` = absent).
    /// - Throws: 400 `invalid_order_timing` for a wrong type, a fraction, or a value out of `OrderTiming`'s ranges.
    static func timing(_ body: JSONValue) throws(APIError) -> OrderTiming {
        func seconds(_ key: String) throws(APIError) -> Int64? {
            guard let v = body[key], !v.isNull else { return nil }
            guard let n = v.int64 else {
                throw APIError(.invalidOrderTiming, "\(key) must be a whole number of seconds")
            }
            return n
        }
        let timing = OrderTiming(readyInSeconds: try seconds("ready_in_s"), deadlineSeconds: try seconds("deadline_s"),
                                 maxRideSeconds: try seconds("max_ride_s"))
        if let why = timing.validationFailure() { throw APIError(.invalidOrderTiming, why) }
        return timing
    }

    static func orderID(_ request: HTTPRequest) throws(APIError) -> OrderID {
        guard let text = request.parameter("id"), let id = UInt64(text) else {
            throw APIError(.invalidParameter, "order id must be an unsigned 64-bit integer")
        }
        return OrderID(id)
    }

    // MARK: - handlers

    /// `POST /v1/quotes` (customer for itself; dispatcher, admin for `customer_id`).
    func postQuote(_ request: HTTPRequest, _ responder: Responder) throws {
        let caller = try auth.require(request, [.customer, .dispatcher])
        let body = try Self.object(request)
        let customer = try customer(body, caller: caller)
        guard let pickup = try Self.point(body["pickup"], "pickup"), let dropoff = try Self.point(body["dropoff"], "dropoff") else {
            throw APIError(.invalidParameter, "pickup and dropoff are required")
        }
        let vehicle = try Self.string(body, "vehicle", max: 32) ?? "car"
        guard roads != nil else { throw APIError(.routingUnavailable, "no road graph is loaded (serve --graph FILE)") }
        let quote: Quote
        do { quote = try pricer.quote(customer: customer, vehicle: vehicle, pickup: pickup, dropoff: dropoff) } catch {
            throw OrderAPIErrors.apiError(error)
        }
        let now = clock.nowMs
        let readyIn = try Self.timing(body).readyInSeconds ?? 0
        let promise = dispatch.promiseMs(pickup: pickup.latLng, readyAtMs: now + readyIn * 1000,
                                         tripSeconds: Double(quote.durationSeconds), nowMs: now)
        responder.respond(.json(status: 201) { w in OrderJSON.write(&w, quote, promiseMs: promise) })
    }

    /// `GET /v1/surge`: every surging zone with its boundary (public in demo mode, for the live map).
    func getSurge(_ request: HTTPRequest, _ responder: Responder) throws {
        if !publicTracking || request.header("authorization") != nil { _ = try auth.principal(request) }
        let zones = surge.surgeZones()
        responder.respond(.json { w in
            w.beginObject()
            w.key("zones"); w.beginArray()
            for z in zones { OrderJSON.write(&w, z) }
            w.endArray()
            w.endObject()
        })
    }

    /// `POST /v1/orders` with an optional `Idempotency-Key`: 201 with the new order once it committed, 200 with
    /// the first order for a replay (same key and body), 409 `idempotency_conflict` for another body.
    func postOrder(_ request: HTTPRequest, _ responder: Responder) throws {
        let caller = try auth.require(request, [.customer])
        let body = try Self.object(request)
        let customer = try customer(body, caller: caller)
        let pickup = try Self.point(body["pickup"], "pickup")
        let dropoff = try Self.point(body["dropoff"], "dropoff")
        let quoteID = try Self.string(body, "quote_id", max: 64)
        let vehicle = try Self.string(body, "vehicle", max: 32)
        let notes = try Self.string(body, "notes", max: 500)
        let timing = try Self.timing(body)
        let key = request.header("idempotency-key")
        if let key, key.isEmpty || key.utf8.count > 255 { throw APIError(.invalidParameter, "Idempotency-Key must be 1–255 bytes") }
        // A shard writes only orders whose pick-up partition it owns: another shard's go to it (docs/cluster.md).
        if let pickup, let relay = relayToOwner, relay(pickup.latLng, request, responder) { return }
        try checkOrderLimit(customer)
        let mailbox = self.mailbox
        if let quoteID {
            let ticket = parkCreation(responder, for: customer)
            // With a key, the book first reads the store for a retry's first order: a read, so off the loop.
            let book = self.book
            var timedRequest = OrderRequest(customerID: customer, quoteID: quoteID, vehicle: vehicle, pickup: pickup, dropoff: dropoff)
            timedRequest.timing = timing
            let request = timedRequest
            let create: @Sendable () -> Void = {
                book.create(request, idempotencyKey: key) { result in _ = mailbox.send(.created(ticket: ticket, result)) }
            }
            if key == nil {
                create()
            } else {
                do { try workers.run(create) { _ in } } catch {
                    _ = mailbox.send(.created(ticket: ticket, .failure(MarketplaceError(StorageError(.storageFailure, "no worker for the read")))))
                }
            }
        } else {
            guard let pickup, let dropoff else { throw APIError(.invalidParameter, "pickup and dropoff are required without quote_id") }
            guard roads != nil else { throw APIError(.routingUnavailable, "no road graph is loaded to price the order") }
            let ticket = parkCreation(responder, for: customer)
            var trip = TripRequest(customerID: customer, vehicle: vehicle ?? "car", pickup: pickup, dropoff: dropoff, notes: notes)
            trip.timing = timing
            book.create(trip, idempotencyKey: key) { result in _ = mailbox.send(.created(ticket: ticket, result)) }
        }
    }

    /// `GET /v1/orders/{id}`: customers see their own, drivers those assigned to them, operators any.
    func getOrder(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.orderID(request)
        let viewer = try actor(try auth.principal(request))
        let book = self.book
        readOffLoop(responder, { () throws(APIError) -> OrderRecord in
            do throws(MarketplaceError) { return try book.order(id, viewer: viewer) } catch { throw OrderAPIErrors.apiError(error) }
        }) { [unowned self, dispatch] order in
            // In a cluster the ETAs of a live order are its dispatcher's: a shard not holding it asks the owner.
            if !order.status.isTerminal, live[id] == nil, let relay = relayToOwner, relay(order.pickup.latLng, request, responder) {
                return
            }
            let eta = dispatch.eta(of: id) ?? OrderETA()
            responder.respond(.json { w in OrderJSON.write(&w, order, eta: eta) })
        }
    }

    /// `GET /v1/orders/{id}/events?after=&limit=`: the order's timeline from the store's append-only event log,
    /// oldest first, for whoever may see the order (operators; its customer; its courier). `after` is the last
    /// `seq` already seen (the cursor `next_after` answers while a page comes back full); `limit` 1…1000, default 100.
    /// One indexed range read on a reader connection, as `GET /v1/orders/{id}`.
    func getOrderEvents(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.orderID(request)
        let viewer = try actor(try auth.principal(request))
        var after: Int64 = 0
        if let text = request.query("after") {
            guard let v = Int64(text), v >= 0 else { throw APIError(.invalidParameter, "after must be an unsigned integer") }
            after = v
        }
        var limit = 100
        if let text = request.query("limit") {
            guard let n = Int(text), n >= 1, n <= 1000 else { throw APIError(.invalidParameter, "limit must be 1…1000") }
            limit = n
        }
        let book = self.book
        let afterSequence = after, pageLimit = limit
        readOffLoop(responder, { () throws(APIError) -> OrderEventPage in
            do throws(MarketplaceError) {
                let page = try book.events(of: id, viewer: viewer, afterSequence: afterSequence, limit: pageLimit)
                return OrderEventPage(order: page.order, events: page.events)
            } catch { throw OrderAPIErrors.apiError(error) }
        }) { page in responder.respond(.json { w in
            w.beginObject()
            w.key("order_id"); w.number(page.order.id.rawValue)
            w.key("status"); w.string(page.order.status.rawValue)
            w.key("events"); w.beginArray()
            for e in page.events { OrderJSON.write(&w, e) }
            w.endArray()
            w.key("next_after")
            if page.events.count == limit, let last = page.events.last { w.number(last.sequence) } else { w.null() }
            w.endObject()
        }) }
    }

    /// `GET /v1/orders?customer_id=&courier_id=&status=a,b&limit=&before_id=`, newest first.
    func listOrders(_ request: HTTPRequest, _ responder: Responder) throws {
        let viewer = try actor(try auth.principal(request))
        var q = OrderQuery()
        func number(_ name: String) throws(APIError) -> UInt64? {
            guard let text = request.query(name) else { return nil }
            guard let v = UInt64(text) else { throw APIError(.invalidParameter, "\(name) must be an unsigned integer") }
            return v
        }
        q.customerID = try request.query("customer_id").map { text throws(APIError) in try Self.customerID(text: text) }
        q.courierID = try number("courier_id").map { CourierID($0) }
        q.beforeID = try number("before_id").map { OrderID($0) }
        if let text = request.query("status"), !text.isEmpty {
            var set = Set<OrderStatus>()
            for name in text.split(separator: ",") {
                guard let s = OrderStatus(rawValue: String(name)) else {
                    throw APIError(.invalidStatus, "unknown order status \(name.prefix(32))")
                }
                set.insert(s)
            }
            q.statuses = set
        }
        if let text = request.query("limit") {
            guard let n = Int(text), n >= 1, n <= 1000 else { throw APIError(.invalidParameter, "limit must be 1…1000") }
            q.limit = n
        }
        let limit = q.limit
        let book = self.book
        let query = q
        readOffLoop(responder, { () throws(APIError) -> [OrderRecord] in
            do throws(MarketplaceError) { return try book.list(query, viewer: viewer) } catch { throw OrderAPIErrors.apiError(error) }
        }) { orders in responder.respond(.json { w in
            w.beginObject()
            w.key("orders"); w.beginArray()
            for o in orders { OrderJSON.write(&w, o) }
            w.endArray()
            w.key("next_before_id")
            if orders.count == limit, let last = orders.last { w.number(last.id.rawValue) } else { w.null() }
            w.endObject()
        }) }
    }

    /// `POST /v1/orders/{id}/cancel|pickup|deliver|fail` with an optional `{"reason":…}`: 200 with the order after
    /// the change committed; 409 `invalid_transition` from the wrong status, 403 `forbidden` for the wrong actor.
    func postTransition(_ request: HTTPRequest, _ responder: Responder, _ action: OrderAction) throws {
        let id = try Self.orderID(request)
        let by = try actor(try auth.principal(request))
        let body = try Self.object(request, emptyIsObject: true)
        let reason = try Self.string(body, "reason", max: 200)
        try atOrderOwner(id, request, responder) { [unowned self] in
            let done = changed(park(responder))
            switch action {
            case .cancel: book.cancel(id, by: by, reason: reason, completion: done)
            case .pickUp: book.pickUp(id, by: by, completion: done)
            case .deliver: book.deliver(id, by: by, completion: done)
            case .fail: book.fail(id, by: by, reason: reason, completion: done)
            }
        }
    }

    /// Runs an action on order `id` (a transition, a courier's answer to an offer) where the order is held: here
    /// for one engine, for an order this shard holds live, or for a request another shard relayed already; in a
    /// cluster otherwise the order's pick-up is read from the store (off the loop) and the request relayed to the
    /// shard owning its partition, which answers (docs/cluster.md). With no other owner (nobody, or this shard) or
    /// no such order, `local` runs here and the store's fenced write or the lookup answers.
    func atOrderOwner(_ id: OrderID, _ request: HTTPRequest, _ responder: Responder,
                      _ local: @escaping () throws -> Void) throws {
        guard let relay = relayToOwner, live[id] == nil, request.header(ClusterService.relayedHeader) == nil else {
            try local()
            return
        }
        let store = self.store
        readOffLoop(responder, { () throws(APIError) -> E7Point? in
            do { return try store.order(id)?.pickup } catch { throw APIError(.storageFailure, "reading order \(id): \(error)") }
        }) { pickup in
            if let pickup, relay(pickup.latLng, request, responder) { return }
            do { try local() } catch let error as APIError { responder.fail(error) } catch {
                responder.fail(APIError(.internalError, "internal error"))
            }
        }
    }

    /// `POST /v1/orders/{id}/rating` `{"stars":1…5,"comment":…}`: the customer rates the courier, the courier
    /// the customer, once per order each, after delivery.
    func postRating(_ request: HTTPRequest, _ responder: Responder) throws {
        let id = try Self.orderID(request)
        let by = try actor(try auth.require(request, [.customer, .driver]))
        let body = try Self.object(request)
        guard let stars = body["stars"]?.int64, stars >= 1, stars <= 5 else { throw APIError(.invalidInput, "stars must be an integer 1…5") }
        var comment: String?
        if let v = body["comment"], !v.isNull {
            guard let s = v.string, s.count <= 500 else { throw APIError(.invalidInput, "comment must be a string of at most 500 characters") }
            comment = s
        }
        let ticket = park(responder)
        let mailbox = self.mailbox
        ratings.rate(id, by: by, stars: Int(stars), comment: comment) { result in _ = mailbox.send(.rated(ticket: ticket, result)) }
    }

    /// `GET /v1/couriers/{id}/rating`, `GET /v1/customers/{id}/rating`: count, mean and Bayesian score.
    func getRating(_ request: HTTPRequest, _ responder: Responder, kind: RatingSubjectKind) throws {
        _ = try auth.principal(request)
        let id: String
        switch kind {
        case .courier:
            guard let text = request.parameter("id"), let number = UInt64(text) else {
                throw APIError(.invalidParameter, "id must be an unsigned 64-bit integer")
            }
            id = String(number)
        case .customer:
            id = try Self.customerID(text: request.parameter("id") ?? "").rawValue
        }
        let summary = ratings.summary(kind, id)
        responder.respond(.json { w in OrderJSON.write(&w, kind: kind.rawValue, id: id, summary) })
    }
}

/// One page of an order's event log with the order, as `GET /v1/orders/{id}/events` answers it.
struct OrderEventPage: Sendable {
    var order: OrderRecord
    var events: [OrderEvent]
}

extension OrdersService {
    /// Runs a store read on a worker (a PostgreSQL read is a round trip to the server, a SQLite one a page read:
    /// neither belongs on the loop) and answers on the loop: the value to `answer`, an error to the responder.
    func readOffLoop<T: Sendable>(_ responder: Responder, _ read: @escaping @Sendable () throws(APIError) -> T,
                                  answer: @escaping (T) -> Void) {
        do {
            try workers.run({ () -> Result<T, APIError> in
                do throws(APIError) { return .success(try read()) } catch { return .failure(error) }
            }) { result in
                switch result {
                case .success(let value): answer(value)
                case .failure(let error): responder.fail(error)
                }
            }
        } catch {
            responder.fail(APIError(.storageFailure, "no worker for the read"))
        }
    }
}

import Vocabulary

extension PostgresStore {
    static let orderColumns = """
        id, customer_id, courier_id, status, vehicle, pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, \
        dropoff_lng_e7, quote_id, price_cents, currency, surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms, \
        ready_in_s, deadline_s, max_ride_s
        """

    static func decodeOrder(_ row: [String?]) throws(StorageError) -> OrderRecord {
        guard row.count == 20, let statusText = row[3], let status = OrderStatus(rawValue: statusText) else {
            throw StorageError(.storageFailure, "unknown status in orders")
        }
        guard let customerText = row[1], let customer = CustomerID(rawValue: customerText) else {
            throw StorageError(.storageFailure, "invalid customer id in orders")
        }
        func int(_ i: Int) throws(StorageError) -> Int64 {
            guard let t = row[i], let v = Int64(t) else { throw StorageError(.storageFailure, "malformed order row") }
            return v
        }
        func int32(_ i: Int) throws(StorageError) -> Int32 {
            guard let v = Int32(exactly: try int(i)) else { throw StorageError(.storageFailure, "malformed order row") }
            return v
        }
        func optionalInt(_ i: Int) throws(StorageError) -> Int64? {
            guard let t = row[i] else { return nil }
            guard let v = Int64(t) else { throw StorageError(.storageFailure, "malformed order row") }
            return v
        }
        var record = OrderRecord(
            id: OrderID(try int(0).unsignedID),
            customerID: customer,
            courierID: row[2].flatMap(Int64.init).map { CourierID($0.unsignedID) },
            status: status,
            vehicle: row[4] ?? "",
            pickup: E7Point(latE7: try int32(5), lngE7: try int32(6)),
            dropoff: E7Point(latE7: try int32(7), lngE7: try int32(8)),
            quoteID: row[9],
            priceCents: try int(10),
            currency: row[11] ?? "",
            surgeMilli: try int(12),
            distanceMeters: try int(13),
            durationSeconds: try int(14),
            createdAtMs: try int(15),
            updatedAtMs: try int(16))
        record.timing = OrderTiming(readyInSeconds: try optionalInt(17), deadlineSeconds: try optionalInt(18),
                                    maxRideSeconds: try optionalInt(19))
        return record
    }

    /// The order, read in the writer's transaction; `lock` takes its row lock (`FOR UPDATE`) so a check and the
    /// change it allows cannot interleave with another writer's (another engine on the same database).
    static func fetchOrder(_ conn: PGConnection, _ id: OrderID, lock: Bool = false) throws -> OrderRecord? {
        let sql = "SELECT \(orderColumns) FROM orders WHERE id = $1" + (lock ? " FOR UPDATE" : "")
        guard let row = try conn.query(sql, [.id(id.rawValue)]).first else { return nil }
        return try decodeOrder(row)
    }

    /// Appends one row to the order's event log and answers its sequence (order notes). Creations and transitions
    /// write their events in the same statement as the order row (one round trip each: `createOrder`'s `ev` CTE,
    /// `transitionOrder`'s INSERT … SELECT), each answering the events' sequences through RETURNING; a row that
    /// must commit with every event (an outbox's) is one more statement after those three, in the same
    /// transaction, keyed by the returned sequences.
    @discardableResult
    static func appendEvent(_ conn: PGConnection, order: OrderID, from: OrderStatus?, to: OrderStatus,
                            actor: ActorRef, reason: String?, atMs: Int64) throws -> Int64 {
        let kept = reason.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(200))) }
        let rows = try conn.query("""
            INSERT INTO order_events (order_id, from_status, to_status, actor_role, actor_id, reason, at_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """, [.id(order.rawValue), .optional(from?.rawValue), .text(to.rawValue), .text(actor.role.rawValue),
                  .text(actor.id), .optional(kept), .int(atMs)])
        guard let text = rows.first?[0], let sequence = Int64(text) else {
            throw StorageError(.storageFailure, "no event id returned")
        }
        return sequence
    }

    // MARK: - writes

    public func createOrder(_ order: NewOrder, idempotency: IdempotencyRequest?, actor: ActorRef,
                            completion: @escaping @Sendable (Result<CreateOrderOutcome, StorageError>) -> Void) {
        if let invalid = order.invalidity(idempotency: idempotency) {
            completion(.failure(invalid))
            return
        }
        let nowMs = self.nowMs
        let outbox = outboxPrefix
        let fence = self.fence
        let partition = fence?.partition(ofPickup: order.pickup)
        submit({ conn in
            if let idem = idempotency {
                if let row = try conn.query("""
                    SELECT fingerprint, order_id FROM idempotency_keys WHERE customer_id = $1 AND key = $2
                    """, [.text(order.customerID.rawValue), .text(idem.key)]).first {
                    guard row[0] == idem.fingerprint else {
                        throw StorageError(.idempotencyConflict, "idempotency key was used with a different request")
                    }
                    guard let idText = row[1], let raw = Int64(idText),
                          let existing = try Self.fetchOrder(conn, OrderID(raw.unsignedID)) else {
                        throw StorageError(.storageFailure, "idempotency key names a missing order")
                    }
                    return CreateOrderOutcome(order: existing, replayed: true)
                }
            }
            if let fence, let partition { try Self.checkLease(conn, fence: fence, partition: partition) }
            let now = nowMs()
            let status: OrderStatus = order.quoteID == nil ? .created : .quoted
            // One round trip: the order, its creation event (and `quoted` after it, in that order: one INSERT, so
            // the sequences follow the rows) and the key. Data-modifying CTEs of one statement run in one snapshot
            // in no set order, so nothing here reads another CTE's effects but `o`'s RETURNING.
            let inserted = try conn.query("""
                WITH o AS (
                  INSERT INTO orders (customer_id, courier_id, status, vehicle, pickup_lat_e7, pickup_lng_e7,
                    dropoff_lat_e7, dropoff_lng_e7, quote_id, price_cents, currency, surge_milli, distance_m,
                    duration_s, created_at_ms, updated_at_ms, ready_in_s, deadline_s, max_ride_s, partition)
                  VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $19, $20, $21, $22) RETURNING id),
                ev AS (
                  INSERT INTO order_events (order_id, from_status, to_status, actor_role, actor_id, reason, at_ms)
                  SELECT o.id, v.from_status, v.to_status, $15, $16, NULL, $14
                  FROM o, (VALUES (1, NULL::text, 'created'), (2, 'created', 'quoted')) AS v(n, from_status, to_status)
                  WHERE v.n = 1 OR $2 = 'quoted' ORDER BY v.n RETURNING id),
                k AS (
                  INSERT INTO idempotency_keys (customer_id, key, fingerprint, order_id, created_at_ms)
                  SELECT $1, $17, $18, o.id, $14 FROM o WHERE $17::text IS NOT NULL)
                SELECT id FROM o
                """, [.text(order.customerID.rawValue), .text(status.rawValue), .text(order.vehicle),
                      .int(order.pickup.latE7), .int(order.pickup.lngE7), .int(order.dropoff.latE7),
                      .int(order.dropoff.lngE7), .optional(order.quoteID), .int(order.priceCents), .text(order.currency),
                      .int(order.surgeMilli), .int(order.distanceMeters), .int(order.durationSeconds), .int(now),
                      .text(actor.role.rawValue), .text(actor.id), .optional(idempotency?.key),
                      .optional(idempotency?.fingerprint), .optional(order.timing.readyInSeconds),
                      .optional(order.timing.deadlineSeconds),
                      .optional(order.timing.maxRideSeconds), .optional(partition)])
            guard let idText = inserted.first?[0], let raw = Int64(idText) else {
                throw StorageError(.storageFailure, "no order id returned")
            }
            let id = OrderID(raw.unsignedID)
            var record = OrderRecord(
                id: id, customerID: order.customerID, courierID: nil, status: status, vehicle: order.vehicle,
                pickup: order.pickup, dropoff: order.dropoff, quoteID: order.quoteID, priceCents: order.priceCents,
                currency: order.currency, surgeMilli: order.surgeMilli, distanceMeters: order.distanceMeters,
                durationSeconds: order.durationSeconds, createdAtMs: now, updatedAtMs: now)
            record.timing = order.timing
            if let prefix = outbox {
                let events = try conn.query("SELECT id, from_status, to_status FROM order_events WHERE order_id = $1 ORDER BY id",
                                            [.id(id.rawValue)])
                for e in events.cells {
                    guard let seq = e[0].flatMap(Int64.init), let to = e[2].flatMap(OrderStatus.init(rawValue:)) else {
                        throw StorageError(.storageFailure, "malformed event row")
                    }
                    try Self.appendOutbox(conn, prefix: prefix, sequence: seq, order: record,
                                          from: e[1].flatMap(OrderStatus.init(rawValue:)), to: to, actor: actor,
                                          reason: nil, atMs: now)
                }
            }
            return CreateOrderOutcome(order: record, replayed: false)
        }, completion: completion)
    }

    public func transitionOrder(_ request: OrderTransitionRequest,
                                completion: @escaping @Sendable (Result<TransitionOutcome, StorageError>) -> Void) {
        if let invalid = request.invalidity {
            completion(.failure(invalid))
            return
        }
        let nowMs = self.nowMs
        let outbox = outboxPrefix
        let fence = self.fence
        let capacity = courierCapacity
        submit({ conn in
            guard var order = try Self.fetchOrder(conn, request.orderID, lock: true) else {
                throw StorageError(.orderNotFound, "no order \(request.orderID)")
            }
            if let fence { try Self.checkLease(conn, fence: fence, partition: fence.partition(ofPickup: order.pickup)) }
            let now = nowMs()
            let from = try request.apply(to: &order, nowMs: now)
            if let capacity { try Self.moveCourierSlot(conn, order: order, capacity: capacity) }
            // The change and its event in one round trip: the event is written only if the row changed.
            let kept = request.reason.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(200))) }
            let changed = try conn.query("""
                WITH u AS (
                  UPDATE orders SET status = $1, courier_id = $2, updated_at_ms = $3 WHERE id = $4 AND status = $5
                  RETURNING id)
                INSERT INTO order_events (order_id, from_status, to_status, actor_role, actor_id, reason, at_ms)
                SELECT id, $5, $1, $6, $7, $8, $3 FROM u RETURNING id
                """, [.text(order.status.rawValue), order.courierID.map { .id($0.rawValue) } ?? .null, .int(now),
                      .id(order.id.rawValue), .text(from.rawValue), .text(request.actor.role.rawValue),
                      .text(request.actor.id), .optional(kept)])
            guard changed.count == 1, let sequence = changed.first?[0].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "order \(order.id) changed under its transition")
            }
            if let prefix = outbox {
                try Self.appendOutbox(conn, prefix: prefix, sequence: sequence, order: order, from: from, to: order.status,
                                      actor: request.actor, reason: kept, atMs: now)
            }
            return TransitionOutcome(order: order, from: from)
        }, completion: completion)
    }

    public func pruneIdempotencyKeys(createdBeforeMs: Int64,
                                     completion: @escaping @Sendable (Result<Int, StorageError>) -> Void) {
        submit({ conn in
            try conn.query("DELETE FROM idempotency_keys WHERE created_at_ms < $1", [.int(createdBeforeMs)]).affected
        }, completion: completion)
    }

    /// Appends an event that is not a status change (a courier's arrival); see `Store.appendOrderNote`.
    public func appendOrderNote(_ order: OrderID, status: OrderStatus, actor: ActorRef, reason: String, atMs: Int64,
                                completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        let outbox = outboxPrefix
        let fence = self.fence
        submit({ conn in
            if let fence {
                guard let record = try Self.fetchOrder(conn, order) else { throw StorageError(.orderNotFound, "no order \(order)") }
                try Self.checkLease(conn, fence: fence, partition: fence.partition(ofPickup: record.pickup))
            }
            guard let prefix = outbox else {
                guard try conn.query("SELECT 1 FROM orders WHERE id = $1", [.id(order.rawValue)]).count == 1 else {
                    throw StorageError(.orderNotFound, "no order \(order)")
                }
                try Self.appendEvent(conn, order: order, from: status, to: status, actor: actor, reason: reason, atMs: atMs)
                return
            }
            // With the outbox the row's payload carries the order's fields: read it rather than only check it exists.
            guard let record = try Self.fetchOrder(conn, order) else { throw StorageError(.orderNotFound, "no order \(order)") }
            let sequence = try Self.appendEvent(conn, order: order, from: status, to: status, actor: actor, reason: reason,
                                                atMs: atMs)
            let kept = String(String.UnicodeScalarView(reason.unicodeScalars.prefix(200)))
            try Self.appendOutbox(conn, prefix: prefix, sequence: sequence, order: record, from: status, to: status,
                                  actor: actor, reason: kept, atMs: atMs)
        }, completion: completion)
    }

    // MARK: - reads

    public func order(_ id: OrderID) throws(StorageError) -> OrderRecord? {
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT \(Self.orderColumns) FROM orders WHERE id = $1", [.id(id.rawValue)])
        }
        return try rows.first.map(Self.decodeOrder)
    }

    public func orders(_ query: OrderQuery) throws(StorageError) -> [OrderRecord] {
        var clauses: [String] = []
        var params: [PGParam] = []
        func param(_ p: PGParam) -> String {
            params.append(p)
            return "$\(params.count)"
        }
        if let c = query.customerID { clauses.append("customer_id = " + param(.text(c.rawValue))) }
        if let c = query.courierID { clauses.append("courier_id = " + param(.id(c.rawValue))) }
        if let s = query.statuses {
            if s.isEmpty { return [] }
            clauses.append("status = ANY(" + param(.text("{" + s.map(\.rawValue).sorted().joined(separator: ",") + "}")) + "::text[])")
        }
        if let b = query.beforeID { clauses.append("id < " + param(.id(b.rawValue))) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = param(.int(min(max(query.limit, 1), 1000)))
        let sql = "SELECT \(Self.orderColumns) FROM orders \(whereSQL) ORDER BY id DESC LIMIT \(limit)"
        let rows = try read { conn throws(PGError) in try conn.query(sql, params) }
        return try rows.cells.map(Self.decodeOrder)
    }

    public func events(of id: OrderID) throws(StorageError) -> [OrderEvent] {
        try events(of: id, afterSequence: 0, limit: Int(Int64.max))
    }

    public func events(of id: OrderID, afterSequence: Int64, limit: Int) throws(StorageError) -> [OrderEvent] {
        let rows = try read { conn throws(PGError) in
            try conn.query("""
                SELECT id, order_id, from_status, to_status, actor_role, actor_id, reason, at_ms
                FROM order_events WHERE order_id = $1 AND id > $2 ORDER BY id LIMIT $3
                """, [.id(id.rawValue), .int(afterSequence), .int(max(limit, 0))])
        }
        return try rows.cells.map { (row: [String?]) throws(StorageError) -> OrderEvent in
            guard let seq = row[0].flatMap(Int64.init), let order = row[1].flatMap(Int64.init),
                  let to = row[3].flatMap(OrderStatus.init(rawValue:)), let role = row[4].flatMap(ActorRef.Role.init(rawValue:)),
                  let actor = row[5], let at = row[7].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "malformed event row")
            }
            return OrderEvent(sequence: seq, orderID: OrderID(order.unsignedID), from: row[2].flatMap(OrderStatus.init(rawValue:)),
                              to: to, actor: ActorRef(role, text: actor), reason: row[6], atMs: at)
        }
    }

    public func idempotentOrder(customer: CustomerID, key: String) throws(StorageError) -> (fingerprint: String, order: OrderRecord)? {
        let rows = try read { conn throws(PGError) in
            try conn.query("""
                SELECT k.fingerprint, \(Self.orderColumns.split(separator: ",").map { "o." + $0.trimmingPrefixSpaces }.joined(separator: ", "))
                FROM idempotency_keys k JOIN orders o ON o.id = k.order_id WHERE k.customer_id = $1 AND k.key = $2
                """, [.text(customer.rawValue), .text(key)])
        }
        guard let row = rows.first, let fingerprint = row[0] else { return nil }
        return (fingerprint, try Self.decodeOrder(Array(row.dropFirst())))
    }

    public func liveOrders() throws(StorageError) -> [OrderRecord] {
        let live = OrderStatus.allCases.filter { !$0.isTerminal }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT \(Self.orderColumns) FROM orders WHERE status IN (\(live)) ORDER BY id")
        }
        return try rows.cells.map(Self.decodeOrder)
    }
}

extension PostgresStore {
    /// Keeps `courier_slots` in step with an order's new status: a dispatch takes the courier's lowest free slot
    /// (1…capacity), refused with `courier_at_capacity` when none is free; accepted and picked-up orders keep theirs;
    /// any other status frees it. Two shards taking the same slot at once meet on its primary key: the later one
    /// waits for the first to commit and then finds it taken (`ON CONFLICT DO NOTHING` inserts nothing), so a
    /// courier never holds more than `capacity`, though a race may refuse a dispatch a free higher slot could take.
    static func moveCourierSlot(_ conn: PGConnection, order: OrderRecord, capacity: Int) throws {
        switch order.status {
        case .accepted, .pickedUp:
            return
        case .dispatched:
            guard let courier = order.courierID else { return }
            try conn.query("DELETE FROM courier_slots WHERE order_id = $1", [.id(order.id.rawValue)])
            let taken = try conn.query("""
                INSERT INTO courier_slots (courier_id, slot, order_id)
                SELECT $1, s, $2 FROM generate_series(1, $3::integer) AS s
                WHERE NOT EXISTS (SELECT 1 FROM courier_slots c WHERE c.courier_id = $1 AND c.slot = s)
                ORDER BY s LIMIT 1
                ON CONFLICT DO NOTHING RETURNING slot
                """, [.id(courier.rawValue), .id(order.id.rawValue), .int(capacity)])
            guard taken.count == 1 else {
                throw StorageError(.courierAtCapacity, "courier \(courier) already holds \(capacity) active orders")
            }
        default:
            try conn.query("DELETE FROM courier_slots WHERE order_id = $1", [.id(order.id.rawValue)])
        }
    }

    public func slotOrders(of couriers: [CourierID]) throws(StorageError) -> [CourierID: [OrderID]] {
        guard !couriers.isEmpty else { return [:] }
        let list = "{" + couriers.map { String(Int64(bitPattern: $0.rawValue)) }.joined(separator: ",") + "}"
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT courier_id, order_id FROM courier_slots WHERE courier_id = ANY($1::bigint[])", [.text(list)])
        }
        var out: [CourierID: [OrderID]] = [:]
        for row in rows.cells {
            guard row.count == 2, let c = row[0].flatMap(Int64.init), let o = row[1].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "unreadable courier_slots row")
            }
            out[CourierID(UInt64(bitPattern: c)), default: []].append(OrderID(UInt64(bitPattern: o)))
        }
        return out
    }

    public func liveOrders(inPartitions partitions: [Int64]) throws(StorageError) -> [OrderRecord] {
        guard !partitions.isEmpty else { return [] }
        let live = OrderStatus.allCases.filter { !$0.isTerminal }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let list = "{" + partitions.map { String($0) }.joined(separator: ",") + "}"
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT \(Self.orderColumns) FROM orders WHERE partition = ANY($1::bigint[]) AND status IN (\(live)) ORDER BY id",
                           [.text(list)])
        }
        return try rows.cells.map(Self.decodeOrder)
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop(while: { $0 == " " }) }
}

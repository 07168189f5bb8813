import GRDB
import Vocabulary

extension SQLiteStore {
    static let orderColumns = """
        id, customer_id, courier_id, status, vehicle, pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, \
        dropoff_lng_e7, quote_id, price_cents, currency, surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms, \
        ready_in_s, deadline_s, max_ride_s
        """

    static func decodeOrder(_ row: Row) throws -> OrderRecord {
        let statusText: String = row[3]
        guard let status = OrderStatus(rawValue: statusText) else {
            throw StorageError(.storageFailure, "unknown status '\(statusText)' in orders")
        }
        let courier: Int64? = row[2]
        var record = OrderRecord(
            id: OrderID((row[0] as Int64).unsignedID),
            customerID: try customerID(row[1]),
            courierID: courier.map { CourierID($0.unsignedID) },
            status: status,
            vehicle: row[4],
            pickup: E7Point(latE7: row[5], lngE7: row[6]),
            dropoff: E7Point(latE7: row[7], lngE7: row[8]),
            quoteID: row[9],
            priceCents: row[10],
            currency: row[11],
            surgeMilli: row[12],
            distanceMeters: row[13],
            durationSeconds: row[14],
            createdAtMs: row[15],
            updatedAtMs: row[16])
        record.timing = OrderTiming(readyInSeconds: row[17], deadlineSeconds: row[18], maxRideSeconds: row[19])
        return record
    }

    /// A stored customer id, checked: the column's CHECK keeps it 1–64 bytes, this keeps the character set.
    static func customerID(_ text: String) throws -> CustomerID {
        guard let id = CustomerID(rawValue: text) else {
            throw StorageError(.storageFailure, "invalid customer id in orders")
        }
        return id
    }

    static func fetchOrder(_ db: Database, _ id: OrderID) throws -> OrderRecord? {
        let stmt = try db.cachedStatement(sql: "SELECT \(orderColumns) FROM orders WHERE id = ?")
        guard let row = try Row.fetchOne(stmt, arguments: [id.rawValue.sqlValue]) else { return nil }
        return try decodeOrder(row)
    }

    /// Appends one event to the log and, with `outbox` (the store's event id prefix), its outbox row (same transaction).
    static func appendEvent(_ db: Database, order: OrderRecord, from: OrderStatus?, to: OrderStatus,
                            actor: ActorRef, reason: String?, atMs: Int64, outbox: String?) throws {
        let stmt = try db.cachedStatement(sql: """
            INSERT INTO order_events (order_id, from_status, to_status, actor_role, actor_id, reason, at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let kept = reason.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(200))) }
        try stmt.execute(arguments: [order.id.rawValue.sqlValue, from?.rawValue, to.rawValue, actor.role.rawValue,
                                     actor.id, kept, atMs])
        if let outbox {
            try appendOutbox(db, prefix: outbox, sequence: db.lastInsertedRowID, order: order, from: from, to: to,
                             actor: actor, reason: kept, atMs: atMs)
        }
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
        submit({ db in
            if let idem = idempotency {
                let stmt = try db.cachedStatement(sql: """
                    SELECT fingerprint, order_id FROM idempotency_keys WHERE customer_id = ? AND key = ?
                    """)
                if let row = try Row.fetchOne(stmt, arguments: [order.customerID.rawValue, idem.key]) {
                    let fingerprint: String = row[0]
                    guard fingerprint == idem.fingerprint else {
                        throw StorageError(.idempotencyConflict, "idempotency key was used with a different request")
                    }
                    let id = OrderID((row[1] as Int64).unsignedID)
                    guard let existing = try Self.fetchOrder(db, id) else {
                        throw StorageError(.storageFailure, "idempotency key names missing order \(id)")
                    }
                    return CreateOrderOutcome(order: existing, replayed: true)
                }
            }
            let now = nowMs()
            let status: OrderStatus = order.quoteID == nil ? .created : .quoted
            let insert = try db.cachedStatement(sql: """
                INSERT INTO orders (customer_id, courier_id, status, vehicle, pickup_lat_e7, pickup_lng_e7,
                  dropoff_lat_e7, dropoff_lng_e7, quote_id, price_cents, currency, surge_milli, distance_m,
                  duration_s, created_at_ms, updated_at_ms, ready_in_s, deadline_s, max_ride_s)
                VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            try insert.execute(arguments: [
                order.customerID.rawValue, status.rawValue, order.vehicle,
                order.pickup.latE7, order.pickup.lngE7, order.dropoff.latE7, order.dropoff.lngE7,
                order.quoteID, order.priceCents, order.currency, order.surgeMilli, order.distanceMeters,
                order.durationSeconds, now, now,
                order.timing.readyInSeconds, order.timing.deadlineSeconds, order.timing.maxRideSeconds,
            ])
            let id = OrderID(db.lastInsertedRowID.unsignedID)
            var record = OrderRecord(
                id: id, customerID: order.customerID, courierID: nil, status: status, vehicle: order.vehicle,
                pickup: order.pickup, dropoff: order.dropoff, quoteID: order.quoteID, priceCents: order.priceCents,
                currency: order.currency, surgeMilli: order.surgeMilli, distanceMeters: order.distanceMeters,
                durationSeconds: order.durationSeconds, createdAtMs: now, updatedAtMs: now)
            record.timing = order.timing
            try Self.appendEvent(db, order: record, from: nil, to: .created, actor: actor, reason: nil, atMs: now,
                                 outbox: outbox)
            if status == .quoted {
                try Self.appendEvent(db, order: record, from: .created, to: .quoted, actor: actor, reason: nil, atMs: now,
                                     outbox: outbox)
            }
            if let idem = idempotency {
                let stmt = try db.cachedStatement(sql: """
                    INSERT INTO idempotency_keys (customer_id, key, fingerprint, order_id, created_at_ms)
                    VALUES (?, ?, ?, ?, ?)
                    """)
                try stmt.execute(arguments: [order.customerID.rawValue, idem.key, idem.fingerprint,
                                             id.rawValue.sqlValue, now])
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
        submit({ db in
            guard var order = try Self.fetchOrder(db, request.orderID) else {
                throw StorageError(.orderNotFound, "no order \(request.orderID)")
            }
            let now = nowMs()
            let from = try request.apply(to: &order, nowMs: now)
            let stmt = try db.cachedStatement(sql: """
                UPDATE orders SET status = ?, courier_id = ?, updated_at_ms = ? WHERE id = ? AND status = ?
                """)
            try stmt.execute(arguments: [order.status.rawValue, order.courierID?.rawValue.sqlValue, now,
                                         order.id.rawValue.sqlValue, from.rawValue])
            guard db.changesCount == 1 else {
                throw StorageError(.storageFailure, "order \(order.id) changed under its transition")
            }
            try Self.appendEvent(db, order: order, from: from, to: request.to, actor: request.actor,
                                 reason: request.reason, atMs: now, outbox: outbox)
            return TransitionOutcome(order: order, from: from)
        }, completion: completion)
    }

    public func pruneIdempotencyKeys(createdBeforeMs: Int64,
                                     completion: @escaping @Sendable (Result<Int, StorageError>) -> Void) {
        submit({ db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at_ms < ?", arguments: [createdBeforeMs])
            return db.changesCount
        }, completion: completion)
    }

    // MARK: - reads

    public func order(_ id: OrderID) throws(StorageError) -> OrderRecord? {
        try read { db in try Self.fetchOrder(db, id) }
    }

    public func orders(_ query: OrderQuery) throws(StorageError) -> [OrderRecord] {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let c = query.customerID { clauses.append("customer_id = ?"); args.append(c.rawValue) }
        if let c = query.courierID { clauses.append("courier_id = ?"); args.append(c.rawValue.sqlValue) }
        if let s = query.statuses {
            if s.isEmpty { return [] }
            clauses.append("status IN (\(s.map { _ in "?" }.joined(separator: ",")))")
            args.append(contentsOf: s.map(\.rawValue).sorted())
        }
        if let b = query.beforeID {
            // Ids are rowids, assigned from 1 upwards, so they stay below Int64.max and compare as signed.
            clauses.append("id < ?")
            args.append(b.rawValue.sqlValue)
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = min(max(query.limit, 1), 1000)
        let sql = "SELECT \(Self.orderColumns) FROM orders \(whereSQL) ORDER BY id DESC LIMIT \(limit)"
        let arguments = StatementArguments(args)
        return try read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decodeOrder) }
    }

    public func events(of id: OrderID) throws(StorageError) -> [OrderEvent] {
        try events(of: id, afterSequence: 0, limit: Int(Int64.max))
    }

    public func events(of id: OrderID, afterSequence: Int64, limit: Int) throws(StorageError) -> [OrderEvent] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, order_id, from_status, to_status, actor_role, actor_id, reason, at_ms
                FROM order_events WHERE order_id = ? AND id > ? ORDER BY id LIMIT ?
                """, arguments: [id.rawValue.sqlValue, afterSequence, max(limit, 0)]).map { row in
                guard let to = OrderStatus(rawValue: row[3]), let role = ActorRef.Role(rawValue: row[4]) else {
                    throw StorageError(.storageFailure, "malformed event row")
                }
                let fromText: String? = row[2]
                return OrderEvent(sequence: row[0], orderID: OrderID((row[1] as Int64).unsignedID),
                                  from: fromText.flatMap(OrderStatus.init(rawValue:)), to: to,
                                  actor: ActorRef(role, text: row[5]), reason: row[6], atMs: row[7])
            }
        }
    }

    public func idempotentOrder(customer: CustomerID, key: String) throws(StorageError) -> (fingerprint: String, order: OrderRecord)? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT fingerprint, order_id FROM idempotency_keys WHERE customer_id = ? AND key = ?
                """, arguments: [customer.rawValue, key]) else { return nil }
            guard let order = try Self.fetchOrder(db, OrderID((row[1] as Int64).unsignedID)) else { return nil }
            return (row[0], order)
        }
    }

    public func liveOrders() throws(StorageError) -> [OrderRecord] {
        let live = OrderStatus.allCases.filter { !$0.isTerminal }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.orderColumns) FROM orders WHERE status IN (\(live)) ORDER BY id")
                .map(Self.decodeOrder)
        }
    }
}

extension PostgresStore {
    public func enqueueWebhook(endpoint: String, event: String, body: [UInt8],
                               completion: @escaping @Sendable (Result<WebhookDeliveryID, StorageError>) -> Void) {
        guard !endpoint.isEmpty, endpoint.utf8.count <= 2048, !event.isEmpty, event.utf8.count <= 64 else {
            completion(.failure(StorageError(.invalidInput, "endpoint must be 1–2048 bytes and event 1–64")))
            return
        }
        let nowMs = self.nowMs
        submit({ conn in
            let now = nowMs()
            let rows = try conn.query("""
                INSERT INTO webhook_deliveries (endpoint, event, body, state, attempts, last_error, created_at_ms, updated_at_ms)
                VALUES ($1, $2, $3, 'pending', 0, NULL, $4, $5) RETURNING id
                """, [.text(endpoint), .text(event), .bytes(body), .int(now), .int(now)])
            guard let id = rows.first?[0].flatMap(Int64.init) else { throw StorageError(.storageFailure, "no delivery id returned") }
            return WebhookDeliveryID(id)
        }, completion: completion)
    }

    public func recordWebhookAttempt(_ id: WebhookDeliveryID, attempts: Int, outcome: WebhookDeliveryRecord.State,
                                     error: String?, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard attempts >= 0 else {
            completion(.failure(StorageError(.invalidInput, "attempts must not be negative")))
            return
        }
        let nowMs = self.nowMs
        submit({ conn in
            let now = nowMs()
            let kept = error.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(500))) }
            let updated = try conn.query("""
                UPDATE webhook_deliveries SET state = $1, attempts = $2, last_error = $3, updated_at_ms = $4 WHERE id = $5
                """, [.text(outcome.rawValue), .int(attempts), .optional(kept), .int(now), .int(id.rawValue)])
            guard updated.affected == 1 else { throw StorageError(.deliveryNotFound, "no webhook delivery \(id)") }
            if outcome == .dead {
                try conn.query("""
                    INSERT INTO webhook_dead_letters (delivery_id, endpoint, event, body, attempts, last_error, dead_at_ms)
                    SELECT id, endpoint, event, body, attempts, last_error, $1 FROM webhook_deliveries WHERE id = $2
                    ON CONFLICT (delivery_id) DO UPDATE SET endpoint = excluded.endpoint, event = excluded.event,
                      body = excluded.body, attempts = excluded.attempts, last_error = excluded.last_error,
                      dead_at_ms = excluded.dead_at_ms
                    """, [.int(now), .int(id.rawValue)])
            }
        }, completion: completion)
    }

    static let deliveryColumns = "id, endpoint, event, body, state, attempts, last_error, created_at_ms"

    static func decodeDelivery(_ row: [String?]) throws(StorageError) -> WebhookDeliveryRecord {
        guard let id = row[0].flatMap(Int64.init), let endpoint = row[1], let event = row[2],
              let body = row[3]?.byteaBytes, let state = row[4].flatMap(WebhookDeliveryRecord.State.init(rawValue:)),
              let attempts = row[5].flatMap(Int.init), let at = row[7].flatMap(Int64.init) else {
            throw StorageError(.storageFailure, "malformed webhook row")
        }
        return WebhookDeliveryRecord(id: WebhookDeliveryID(id), endpoint: endpoint, event: event, body: body,
                                     state: state, attempts: attempts, lastError: row[6], createdAtMs: at)
    }

    public func pendingWebhooks() throws(StorageError) -> [WebhookDeliveryRecord] {
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE state = 'pending' ORDER BY id")
        }
        return try rows.cells.map(Self.decodeDelivery)
    }

    public func webhookDelivery(_ id: WebhookDeliveryID) throws(StorageError) -> WebhookDeliveryRecord? {
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE id = $1", [.int(id.rawValue)])
        }
        return try rows.first.map(Self.decodeDelivery)
    }

    public func deadLetters(limit: Int) throws(StorageError) -> [WebhookDeadLetter] {
        let n = min(max(limit, 1), 10_000)
        let rows = try read { conn throws(PGError) in
            try conn.query("""
                SELECT delivery_id, endpoint, event, body, attempts, last_error, dead_at_ms
                FROM webhook_dead_letters ORDER BY delivery_id LIMIT $1
                """, [.int(n)])
        }
        return try rows.cells.map { (row: [String?]) throws(StorageError) -> WebhookDeadLetter in
            guard let id = row[0].flatMap(Int64.init), let endpoint = row[1], let event = row[2],
                  let body = row[3]?.byteaBytes, let attempts = row[4].flatMap(Int.init), let at = row[6].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "malformed dead-letter row")
            }
            return WebhookDeadLetter(deliveryID: WebhookDeliveryID(id), endpoint: endpoint, event: event, body: body,
                                     attempts: attempts, lastError: row[5], deadAtMs: at)
        }
    }
}

import Foundation
import GRDB

extension SQLiteStore {
    public func enqueueWebhook(endpoint: String, event: String, body: [UInt8],
                               completion: @escaping @Sendable (Result<WebhookDeliveryID, StorageError>) -> Void) {
        guard !endpoint.isEmpty, endpoint.utf8.count <= 2048, !event.isEmpty, event.utf8.count <= 64 else {
            completion(.failure(StorageError(.invalidInput, "endpoint must be 1–2048 bytes and event 1–64")))
            return
        }
        let nowMs = self.nowMs
        submit({ db in
            let now = nowMs()
            let stmt = try db.cachedStatement(sql: """
                INSERT INTO webhook_deliveries (endpoint, event, body, state, attempts, last_error, created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, 'pending', 0, NULL, ?, ?)
                """)
            try stmt.execute(arguments: [endpoint, event, Data(body), now, now])
            return WebhookDeliveryID(db.lastInsertedRowID)
        }, completion: completion)
    }

    public func recordWebhookAttempt(_ id: WebhookDeliveryID, attempts: Int, outcome: WebhookDeliveryRecord.State,
                                     error: String?, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard attempts >= 0 else {
            completion(.failure(StorageError(.invalidInput, "attempts must not be negative")))
            return
        }
        let nowMs = self.nowMs
        submit({ db in
            let now = nowMs()
            let kept = error.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(500))) }
            try db.execute(sql: """
                UPDATE webhook_deliveries SET state = ?, attempts = ?, last_error = ?, updated_at_ms = ? WHERE id = ?
                """, arguments: [outcome.rawValue, attempts, kept, now, id.rawValue])
            guard db.changesCount == 1 else { throw StorageError(.deliveryNotFound, "no webhook delivery \(id)") }
            if outcome == .dead {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO webhook_dead_letters (delivery_id, endpoint, event, body, attempts, last_error, dead_at_ms)
                    SELECT id, endpoint, event, body, attempts, last_error, ? FROM webhook_deliveries WHERE id = ?
                    """, arguments: [now, id.rawValue])
            }
        }, completion: completion)
    }

    static func decodeDelivery(_ row: Row) throws -> WebhookDeliveryRecord {
        guard let state = WebhookDeliveryRecord.State(rawValue: row[4]) else {
            throw StorageError(.storageFailure, "malformed webhook row")
        }
        let body: Data = row[3]
        return WebhookDeliveryRecord(id: WebhookDeliveryID(row[0]), endpoint: row[1], event: row[2], body: [UInt8](body),
                                     state: state, attempts: row[5], lastError: row[6], createdAtMs: row[7])
    }

    static let deliveryColumns = "id, endpoint, event, body, state, attempts, last_error, created_at_ms"

    public func pendingWebhooks() throws(StorageError) -> [WebhookDeliveryRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE state = 'pending' ORDER BY id")
                .map(Self.decodeDelivery)
        }
    }

    public func webhookDelivery(_ id: WebhookDeliveryID) throws(StorageError) -> WebhookDeliveryRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE id = ?",
                             arguments: [id.rawValue]).map(Self.decodeDelivery)
        }
    }

    public func deadLetters(limit: Int) throws(StorageError) -> [WebhookDeadLetter] {
        let n = min(max(limit, 1), 10_000)
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT delivery_id, endpoint, event, body, attempts, last_error, dead_at_ms
                FROM webhook_dead_letters ORDER BY delivery_id LIMIT \(n)
                """).map { row in
                let body: Data = row[3]
                return WebhookDeadLetter(deliveryID: WebhookDeliveryID(row[0]), endpoint: row[1], event: row[2],
                                         body: [UInt8](body), attempts: row[4], lastError: row[5], deadAtMs: row[6])
            }
        }
    }
}

import Foundation
import GRDB
import Vocabulary

extension SQLiteStore: OutboxStore {
    /// Writes the outbox row of one order event (`OrderOutboxRow`), inside the caller's transaction.
    static func appendOutbox(_ db: Database, prefix: String, sequence: Int64, order: OrderRecord, from: OrderStatus?, to: OrderStatus,
                             actor: ActorRef, reason: String?, atMs: Int64) throws {
        let row = OrderOutboxRow(prefix: prefix, sequence: sequence, order: order, from: from, to: to, actor: actor,
                                 reason: reason, atMs: atMs)
        let stmt = try db.cachedStatement(sql: """
            INSERT INTO outbox (subject, message_id, payload, created_at_ms) VALUES (?, ?, ?, ?)
            """)
        try stmt.execute(arguments: [row.subject, row.messageID, Data(row.payload), atMs])
    }

    public func pendingOutbox(afterID: Int64, limit: Int) throws(StorageError) -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, subject, message_id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?
                """, arguments: [afterID, max(limit, 0)]).map { row in
                let payload: Data = row[3]
                return OutboxEntry(id: row[0], subject: row[1], messageID: row[2], payload: [UInt8](payload))
            }
        }
    }

    public func deleteOutbox(ids: [Int64], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard !ids.isEmpty else {
            completion(.success(()))
            return
        }
        submit({ db in
            let stmt = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
            for id in ids { try stmt.execute(arguments: [id]) }
        }, completion: completion)
    }

    public func outboxCount() throws(StorageError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }
    }
}

import Vocabulary

extension PostgresStore: OutboxStore {
    /// Writes the outbox row of one order event (`OrderOutboxRow`, the same as SQLite's), in the caller's transaction.
    static func appendOutbox(_ conn: PGConnection, prefix: String, sequence: Int64, order: OrderRecord, from: OrderStatus?,
                             to: OrderStatus, actor: ActorRef, reason: String?, atMs: Int64) throws {
        let row = OrderOutboxRow(prefix: prefix, sequence: sequence, order: order, from: from, to: to, actor: actor,
                                 reason: reason, atMs: atMs)
        try conn.query("INSERT INTO outbox (subject, message_id, payload, created_at_ms) VALUES ($1, $2, $3, $4)",
                       [.text(row.subject), .text(row.messageID), .bytes(row.payload), .int(atMs)])
    }

    public func pendingOutbox(afterID: Int64, limit: Int) throws(StorageError) -> [OutboxEntry] {
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT id, subject, message_id, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
                           [.int(afterID), .int(max(limit, 0))])
        }
        return try rows.cells.map { row throws(StorageError) in
            guard let id = row[0].flatMap(Int64.init), let subject = row[1], let messageID = row[2],
                  let payload = row[3]?.byteaBytes else {
                throw StorageError(.storageFailure, "malformed outbox row")
            }
            return OutboxEntry(id: id, subject: subject, messageID: messageID, payload: payload)
        }
    }

    public func deleteOutbox(ids: [Int64], completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard !ids.isEmpty else {
            completion(.success(()))
            return
        }
        submit({ conn in
            // One statement for the batch: the ids as one array parameter.
            let array = "{" + ids.map(String.init).joined(separator: ",") + "}"
            try conn.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [.text(array)])
        }, completion: completion)
    }

    public func outboxCount() throws(StorageError) -> Int {
        let rows = try read { conn throws(PGError) in try conn.query("SELECT count(*) FROM outbox") }
        guard let n = rows.first?[0].flatMap(Int.init) else { throw StorageError(.storageFailure, "no count") }
        return n
    }
}

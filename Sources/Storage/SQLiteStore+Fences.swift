import Foundation
import GRDB

extension SQLiteStore: FenceStore {
    public func putFence(_ fence: StoredFence, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard !fence.id.isEmpty, fence.id.utf8.count <= 64, fence.definition.count >= 2 else {
            completion(.failure(StorageError(.invalidInput, "a fence id is 1–64 bytes and its definition JSON")))
            return
        }
        let nowMs = self.nowMs
        submit({ db in
            let now = nowMs()
            try db.execute(sql: """
                INSERT INTO fences (id, definition, expires_at_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET definition = excluded.definition, expires_at_ms = excluded.expires_at_ms,
                  updated_at_ms = excluded.updated_at_ms
                """, arguments: [fence.id, Data(fence.definition), fence.expiresAtMs, now, now])
        }, completion: completion)
    }

    public func deleteFence(id: String, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        submit({ db in try db.execute(sql: "DELETE FROM fences WHERE id = ?", arguments: [id]) }, completion: completion)
    }

    public func fences() throws(StorageError) -> [StoredFence] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, definition, expires_at_ms FROM fences ORDER BY id").map { row in
                let body: Data = row[1]
                return StoredFence(id: row[0], definition: [UInt8](body), expiresAtMs: row[2])
            }
        }
    }
}

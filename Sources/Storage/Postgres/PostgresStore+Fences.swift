extension PostgresStore {
    public func putFence(_ fence: StoredFence, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        guard !fence.id.isEmpty, fence.id.utf8.count <= 64, fence.definition.count >= 2 else {
            completion(.failure(StorageError(.invalidInput, "a fence id is 1–64 bytes and its definition JSON")))
            return
        }
        let nowMs = self.nowMs
        submit({ conn in
            let now = nowMs()
            try conn.query("""
                INSERT INTO fences (id, definition, expires_at_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, expires_at_ms = excluded.expires_at_ms,
                  updated_at_ms = excluded.updated_at_ms
                """, [.text(fence.id), .bytes(fence.definition), .optional(fence.expiresAtMs), .int(now), .int(now)])
        }, completion: completion)
    }

    public func deleteFence(id: String, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        submit({ conn in try conn.query("DELETE FROM fences WHERE id = $1", [.text(id)]) }, completion: completion)
    }

    public func fences() throws(StorageError) -> [StoredFence] {
        let rows = try read { conn throws(PGError) in
            try conn.query("SELECT id, definition, expires_at_ms FROM fences ORDER BY id COLLATE \"C\"")
        }
        return try rows.cells.map { (row: [String?]) throws(StorageError) -> StoredFence in
            guard let id = row[0], let definition = row[1]?.byteaBytes else {
                throw StorageError(.storageFailure, "malformed fence row")
            }
            return StoredFence(id: id, definition: definition, expiresAtMs: row[2].flatMap(Int64.init))
        }
    }
}

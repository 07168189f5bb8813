import Foundation
import GRDB
import Testing
@testable import Storage
import Vocabulary

/// Faults under a live store (docs/limits.md): SQLite reporting a full database, and the file deleted under it.
@Suite("Store faults: full disk, deleted file")
struct StorageFaultTests {
    @Test("a full database (SQLITE_FULL) refuses with storage_full, keeps what it acknowledged, and writes succeed again once there is room")
    func fullDatabase() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite()
        defer { store.close() }
        _ = try store.createOrderAndWait(sampleOrder(), actor: customerActor)
        // The same refusal a full disk gives: SQLite may not grow the file past its current pages.
        let pages = try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        var created = 0
        var refusal: StorageError?
        for i in 0..<5_000 {
            do {
                _ = try store.createOrderAndWait(sampleOrder(customer: UInt64(1_000 + i)), actor: customerActor)
                created += 1
            } catch {
                refusal = error
                break
            }
        }
        #expect(refusal?.code == .storageFull, "\(String(describing: refusal))")
        #expect(try store.orders(OrderQuery()).count == created + 1, "what was acknowledged is there")
        try store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        _ = try store.createOrderAndWait(sampleOrder(customer: 99), actor: customerActor)
    }

    @Test("a database file deleted under the store refuses writes with storage_failure instead of losing them")
    func deletedFile() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite()
        defer { store.close() }
        _ = try store.createOrderAndWait(sampleOrder(), actor: customerActor)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: tmp.path + suffix) }
        do {
            _ = try store.createOrderAndWait(sampleOrder(customer: 8), actor: customerActor)
            Issue.record("a write to a deleted file was acknowledged")
        } catch {
            #expect(error.code == .storageFailure)
            #expect(error.message.contains("deleted or moved"), "\(error.message)")
        }
    }

    @Test("a GRDB error with SQLITE_FULL wraps as storage_full, others as storage_failure")
    func wrapping() {
        #expect(StorageError.wrap(DatabaseError(resultCode: .SQLITE_FULL)).code == .storageFull)
        #expect(StorageError.wrap(DatabaseError(resultCode: .SQLITE_IOERR)).code == .storageFailure)
        #expect(StorageError.wrap(DatabaseError(resultCode: .SQLITE_CORRUPT)).code == .storageFailure)
    }
}

import Foundation
import GRDB
import Synchronization
import Testing
@testable import Storage
import Vocabulary

@Suite("Crash durability")
struct CrashDurabilityTests {
    /// The child writes orders from 8 threads, appends each acknowledged id to a file (a plain
    /// write(2): the page cache outlives the process), and SIGKILLs itself after 300 acks with
    /// writes still queued and in flight. The parent then reopens the file.
    @Test("every order acknowledged before kill -9 is in the file after reopening, and the file is intact")
    func killNine() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hexfleet-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dbPath = dir.appendingPathComponent("crash.sqlite").path
        let ackPath = dir.appendingPathComponent("acks.txt").path

        await #expect(processExitsWith: .signal(SIGKILL)) { [dbPath = dbPath as String, ackPath = ackPath as String] in
            _ = FileManager.default.createFile(atPath: ackPath, contents: nil)
            guard let acks = FileHandle(forWritingAtPath: ackPath),
                  let store = try? SQLiteStore(path: dbPath) else { exit(3) }
            let count = Mutex(0)
            for t in 0..<8 {
                Thread {
                    for i in 0..<100_000 {
                        store.createOrder(sampleOrder(customer: UInt64(t)),
                                          idempotency: IdempotencyRequest(key: "\(t)-\(i)", fingerprint: "f"),
                                          actor: .system) { result in
                            guard case .success(let out) = result else { return }
                            let n = count.withLock { n -> Int in
                                try? acks.write(contentsOf: Data("\(out.order.id)\n".utf8))
                                n += 1
                                return n
                            }
                            if n == 300 { kill(getpid(), SIGKILL) }
                        }
                        if i % 50 == 49 { usleep(200) }
                    }
                }.start()
            }
            sleep(60)   // watchdog: the kill never came
            exit(4)
        }

        let text = try String(contentsOfFile: ackPath, encoding: .utf8)
        let acked = text.split(separator: "\n").compactMap { UInt64($0) }
        #expect(acked.count >= 300)
        let store = try SQLiteStore(path: dbPath)
        defer { store.close() }
        var missing = 0
        for id in acked where try store.order(OrderID(id)) == nil { missing += 1 }
        #expect(missing == 0, "\(missing) of \(acked.count) acknowledged orders lost")
        let integrity = try store.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
        // Every surviving order has both of its creation events and its key: no half-written operation.
        let orphans = try store.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM order_events e WHERE e.order_id = o.id) != 2
                   OR NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.order_id = o.id)
                """)
        }
        #expect(orphans == 0)
    }
}

import Foundation
import Synchronization
import Testing
@testable import Storage
import Vocabulary

/// What only the PostgreSQL store has: its migrations table, the schema's own refusals in PostgreSQL, a lost
/// connection, and the SQLSTATE mapping. The behaviour both stores share runs in the other suites for both kinds.
@Suite("PostgresStore: migrations, schema, reconnection",
       .enabled(if: StoreKind.postgresURL != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct PostgresStoreTests {
    @Test("a new database gets every migration in order, recorded in schema_migrations; reopening applies nothing new")
    func migrations() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let names = PostgresSchema.migrations.map(\.name)
        let store = try PostgresStore(url: url)
        #expect(try store.appliedMigrations() == names)
        _ = try store.createOrderAndWait(sampleOrder(), actor: customerActor)
        store.close()
        let again = try PostgresStore(url: url)
        defer { again.close() }
        #expect(try again.appliedMigrations() == names)
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM schema_migrations") == ["\(names.count)"])
        #expect(try again.liveOrders().count == 1)
    }

    @Test("engines starting at once on a new database all open it: the migrations table is made under the migration lock")
    func concurrentFirstOpens() throws {
        for _ in 0..<10 {
            let tmp = try TempDatabase(.postgres)
            defer { tmp.remove() }
            let url = try #require(tmp.postgresURL)
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do { try PostgresStore(url: url).close() } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM schema_migrations") == ["\(PostgresSchema.migrations.count)"])
        }
    }

    @Test("the schema refuses bad rows itself, and order_events is append-only")
    func constraints() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let store = try PostgresStore(url: url)
        defer { store.close() }
        _ = try store.createOrderAndWait(sampleOrder(), actor: customerActor)
        let good = "INSERT INTO orders (customer_id, status, vehicle, pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, dropoff_lng_e7, price_cents, currency, surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms) VALUES "
        let bad = [
            good + "('1', 'lost', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            good + "('1', 'created', 'car', 0, 0, 0, 0, -1, 'EUR', 1000, 1, 1, 0, 0)",
            good + "('1', 'created', 'car', 910000000, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            good + "('1', 'created', 'car', 0, 0, 0, 0, 100, 'EURO', 1000, 1, 1, 0, 0)",
            good + "('1', 'dispatched', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            good + "('', 'created', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)",
            "INSERT INTO order_events (order_id, to_status, actor_role, actor_id, at_ms) VALUES (999, 'created', 'system', '0', 0)",
            "UPDATE order_events SET to_status = 'delivered'",
            "DELETE FROM order_events",
            "TRUNCATE order_events CASCADE",
        ]
        for sql in bad {
            #expect(throws: PostgresAdmin.Failure.self, "\(sql)") { try PostgresAdmin.execute(url, sql) }
        }
        try PostgresAdmin.execute(url, good + "('1', 'created', 'car', 0, 0, 0, 0, 100, 'EUR', 1000, 1, 1, 0, 0)")
        #expect(try store.orders(OrderQuery()).count == 2)
        #expect(try store.events(of: OrderID(1)).count == 2)
    }

    @Test("connections killed by the server are opened again: the next write and read succeed, nothing acknowledged is lost")
    func reconnects() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let store = try PostgresStore(url: url)
        defer { store.close() }
        let first = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order
        #expect(try store.order(first.id) == first)
        let db = try #require(url.split(separator: "/").last.map(String.init))
        // What a failover or a restarted server does to every open connection.
        let killed = try PostgresAdmin.query(url, """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(db)' AND pid <> pg_backend_pid()
            """)
        #expect(killed.first.flatMap { $0 }.flatMap(Int.init) ?? 0 >= 2, "the writer's and a reader's connections")
        let second = try store.createOrderAndWait(sampleOrder(customer: 8), actor: customerActor).order
        #expect(try store.order(second.id) == second)
        #expect(try store.liveOrders().map(\.id) == [first.id, second.id])
    }

    @Test("concurrent creates from many threads commit in fewer transactions than operations; every row and key persists")
    func groupCommit() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let store = try PostgresStore(url: url)
        let threads = 8, perThread = 100, total = threads * perThread
        let created = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        for t in 0..<threads {
            Thread {
                for i in 0..<perThread {
                    store.createOrder(sampleOrder(customer: UInt64(t)), idempotency: IdempotencyRequest(key: "t\(t)-\(i)", fingerprint: "x"),
                                      actor: .system) { r in
                        if case .success(let out) = r, !out.replayed { created.add(1, ordering: .relaxed) }
                        done.signal()
                    }
                }
            }.start()
        }
        for _ in 0..<total { done.wait() }
        let stats = store.writeStats
        store.close()
        #expect(created.load(ordering: .relaxed) == total)
        #expect(stats.operations == UInt64(total))
        #expect(stats.transactions < stats.operations, "\(stats)")
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM orders") == ["\(total)"])
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM order_events") == ["\(2 * total)"])
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM idempotency_keys") == ["\(total)"])
    }

    @Test("an unreachable server fails opening with storage_failure naming the reason")
    func unreachable() throws {
        #expect(throws: StorageError.self) {
            try PostgresStore(url: "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
        }
        do {
            _ = try PostgresStore(url: "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")
        } catch {
            #expect(error.code == .storageFailure)
            #expect(error.message.contains("cannot connect"))
        }
    }

    @Test("SQLSTATEs map to the store's codes: 53100 (disk full) is storage_full, a NUL in text invalid_input")
    func sqlStates() throws {
        #expect(PGError(sqlState: "53100", message: "could not extend file", connectionLost: false).storageError.code == .storageFull)
        #expect(PGError(sqlState: "22021", message: "invalid byte sequence", connectionLost: false).storageError.code == .invalidInput)
        #expect(PGError(sqlState: "23505", message: "duplicate key", connectionLost: false).storageError.code == .storageFailure)
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let store = try PostgresStore(url: try #require(tmp.postgresURL))
        defer { store.close() }
        let order = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order
        expectStorageError(.invalidInput, "a NUL in the reason") {
            try store.transitionOrderAndWait(OrderTransitionRequest(orderID: order.id, from: [.quoted], to: .cancelled,
                                                                    actor: .system, reason: "a\u{0}b"))
        }
        #expect(try store.order(order.id)?.status == .quoted)
    }
}

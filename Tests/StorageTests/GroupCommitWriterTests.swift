import Foundation
import Synchronization
import Testing
@testable import Storage
import Vocabulary

@Suite("Group commit")
struct GroupCommitWriterTests {
    @Test("many concurrent creates commit in fewer transactions than operations, every completion runs once, all rows persist")
    func concurrentSubmissions() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let threads = 8, perThread = 250, total = threads * perThread
        let results = Mutex<[UInt64: Int]>([:])
        let failures = Atomic<Int>(0)
        do {
            let store = try tmp.openSQLite(.full)
            let done = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for t in 0..<threads {
                group.enter()
                let thread = Thread {
                    for i in 0..<perThread {
                        store.createOrder(sampleOrder(customer: UInt64(t)),
                                          idempotency: IdempotencyRequest(key: "t\(t)-\(i)", fingerprint: "x"),
                                          actor: .system) { r in
                            switch r {
                            case .success(let out): results.withLock { $0[out.order.id.rawValue, default: 0] += 1 }
                            case .failure: failures.add(1, ordering: .relaxed)
                            }
                            done.signal()
                        }
                    }
                    group.leave()
                }
                thread.start()
            }
            group.wait()
            for _ in 0..<total { done.wait() }
            let stats = store.writeStats
            #expect(stats.operations == UInt64(total))
            #expect(stats.transactions < stats.operations, "\(stats)")
            #expect(stats.largestBatch > 1)
            store.close()
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let counts = results.withLock { $0 }
        #expect(counts.count == total)
        #expect(counts.values.allSatisfy { $0 == 1 })
        let reopened = try tmp.openSQLite(.full)
        defer { reopened.close() }
        #expect(try reopened.liveOrders().count == total)
        let events = try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM order_events") }
        #expect(events == 2 * total)
        let keys = try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM idempotency_keys") }
        #expect(keys == total)
    }

    @Test("an operation that fails rolls back alone; its batch neighbours commit", arguments: StoreKind.testable)
    func failureIsolation(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        let outcomes = Mutex<[Int: Bool]>([:])
        let done = DispatchSemaphore(value: 0)
        for i in 0..<50 {
            // Every fifth names a missing order; the others create orders.
            if i % 5 == 0 {
                store.transitionOrder(OrderTransitionRequest(orderID: OrderID(1_000_000), from: [.quoted], to: .cancelled, actor: .system)) { r in
                    if case .failure(let e) = r, e.code == .orderNotFound { outcomes.withLock { $0[i] = false } }
                    done.signal()
                }
            } else {
                store.createOrder(sampleOrder(), idempotency: nil, actor: .system) { r in
                    if case .success = r { outcomes.withLock { $0[i] = true } }
                    done.signal()
                }
            }
        }
        for _ in 0..<50 { done.wait() }
        let got = outcomes.withLock { $0 }
        #expect(got.count == 50)
        #expect(got.values.filter { $0 }.count == 40)
        #expect(try store.liveOrders().count == 40)
    }

    @Test("writes after close fail with storage_closed and their completion still runs", arguments: StoreKind.testable)
    func closedStore(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        store.close()
        store.close()
        #expect(throws: StorageError(.closed, "the store is closed")) {
            try store.createOrderAndWait(sampleOrder(), actor: .system)
        }
        expectStorageError(.storageFailure, "a read after close") { try store.order(OrderID(1)) }
    }

    @Test("without group commit every operation is its own transaction (the benchmark's baseline)", arguments: StoreKind.testable)
    func baselineMode(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open(groupCommit: false)
        defer { store.close() }
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<40 { store.createOrder(sampleOrder(), idempotency: nil, actor: .system) { _ in done.signal() } }
        for _ in 0..<40 { done.wait() }
        store.flush()
        #expect(store.writeStats.transactions == store.writeStats.operations)
        #expect(store.writeStats.largestBatch == 1)
    }
}

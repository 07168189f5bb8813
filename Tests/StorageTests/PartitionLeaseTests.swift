import Foundation
import Synchronization
import Testing
@testable import Storage
import Vocabulary

/// Partition leases in PostgreSQL and the epoch fence on order writes (docs/cluster.md), against the real server:
/// two lease handles or two fenced stores on one database stand for two engines.
@Suite("Partition leases and fenced order writes",
       .enabled(if: StoreKind.postgresURL != nil, "HEXFLEET_TEST_POSTGRES is unset: start a server with eval \"$(scripts/postgres-start)\""))
struct PartitionLeaseTests {
    private let p: Int64 = 0x0830_8d7f_ffff_ffff   // an H3 resolution-3 cell id's bits (any value works for the table)
    private let q: Int64 = 0x0831_aa7f_ffff_ffff

    /// Lapses every lease at once, as the TTL would after an engine died (PostgreSQL's clock, set back by SQL).
    private func lapseAll(_ url: String) throws {
        try PostgresAdmin.execute(url, "UPDATE partition_leases SET expires_at = now() - interval '1 second'")
    }

    @Test("a claim wins once: a second node is refused while the lease is live, renewals keep it, a lapsed lease goes to the next claimant with epoch + 1")
    func claimRenewSteal() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let a = try PartitionLeaseStore(url: url), b = try PartitionLeaseStore(url: url)
        #expect(try a.claim(p, node: "a", ttlMs: 3_000) == 1)
        #expect(try b.claim(p, node: "b", ttlMs: 3_000) == nil)
        #expect(try a.claim(p, node: "a", ttlMs: 3_000) == nil, "a live lease is not claimed again, not even by its holder")
        #expect(try a.renew([p: 1], node: "a", ttlMs: 3_000) == [p])
        #expect(try b.renew([p: 1], node: "b", ttlMs: 3_000) == [], "only the owner renews")
        #expect(try a.leases() == [PartitionLease(partition: p, owner: "a", epoch: 1, isLive: true)])

        try lapseAll(url)
        #expect(try a.leases().map(\.isLive) == [false])
        #expect(try a.renew([p: 1], node: "a", ttlMs: 3_000) == [], "a lapsed lease is not renewed: it is lost")
        #expect(try b.claim(p, node: "b", ttlMs: 3_000) == 2)
        #expect(try a.claim(p, node: "a", ttlMs: 3_000) == nil)
        #expect(try a.renew([p: 1], node: "a", ttlMs: 3_000) == [], "the old epoch renews nothing")
        #expect(try b.leases() == [PartitionLease(partition: p, owner: "b", epoch: 2, isLive: true)])
    }

    @Test("a lease lapses by PostgreSQL's clock after its TTL when nobody renews it")
    func lapsesOnItsOwn() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let a = try PartitionLeaseStore(url: url), b = try PartitionLeaseStore(url: url)
        #expect(try a.claim(q, node: "a", ttlMs: 200) == 1)
        #expect(try b.claim(q, node: "b", ttlMs: 3_000) == nil)
        var epoch: Int64?
        for _ in 0..<100 where epoch == nil {   // the TTL is 0.2 s; wait up to 10 s on a loaded machine
            Thread.sleep(forTimeInterval: 0.1)
            epoch = try b.claim(q, node: "b", ttlMs: 3_000)
        }
        #expect(epoch == 2)
    }

    @Test("a restarted node (same name, new handle) cannot take its old live lease; once it lapses it gets a new epoch")
    func restartGetsNewEpoch() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let before = try PartitionLeaseStore(url: url)
        #expect(try before.claim(p, node: "a", ttlMs: 3_000) == 1)
        let after = try PartitionLeaseStore(url: url)
        #expect(try after.claim(p, node: "a", ttlMs: 3_000) == nil)
        try lapseAll(url)
        #expect(try after.claim(p, node: "a", ttlMs: 3_000) == 2)
        #expect(try before.renew([p: 1], node: "a", ttlMs: 3_000) == [], "the old life's epoch renews nothing")
    }

    @Test("a release frees the lease at once and keeps the row, so the next claim's epoch is higher; heartbeats list live nodes")
    func releaseAndNodes() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let a = try PartitionLeaseStore(url: url), b = try PartitionLeaseStore(url: url)
        try a.heartbeat(node: "a", ttlMs: 3_000)
        try b.heartbeat(node: "b", ttlMs: 3_000)
        #expect(try a.liveNodes() == ["a", "b"])
        #expect(try a.claim(p, node: "a", ttlMs: 3_000) == 1)
        #expect(try a.claim(q, node: "a", ttlMs: 3_000) == 1)
        try b.release([p: 1, q: 1], node: "b")
        #expect(try b.claim(p, node: "b", ttlMs: 3_000) == nil, "another node's release changes nothing")
        try a.release([p: 1, q: 1], node: "a")
        try a.leave(node: "a")
        #expect(try b.liveNodes() == ["b"])
        #expect(try b.claim(p, node: "b", ttlMs: 3_000) == 2)
        try PostgresAdmin.execute(url, "UPDATE cluster_nodes SET expires_at = now() - interval '1 second' WHERE node = 'b'")
        #expect(try b.liveNodes() == [])
    }

    @Test("fenced writes: only the live lease's owner with its current epoch writes; a stale owner's create, transition and note change nothing")
    func fencedWrites() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let leases = try PartitionLeaseStore(url: url)
        let fenceA = TestFence(node: "a", partition: p), fenceB = TestFence(node: "b", partition: p)
        let a = try fencedStore(url, fenceA), b = try fencedStore(url, fenceB)
        defer { a.close(); b.close() }

        // Nobody holds the partition: nobody writes.
        expectMoved { _ = try a.createOrderAndWait(sampleOrder(), actor: customerActor) }
        let claimedA = try #require(try leases.claim(p, node: "a", ttlMs: 60_000))
        fenceA.epoch = claimedA
        let order = try a.createOrderAndWait(sampleOrder(), actor: customerActor).order
        #expect(try PostgresAdmin.query(url, "SELECT partition FROM orders") == [String(p)])
        #expect(try a.liveOrders(inPartitions: [p]).map(\.id) == [order.id])
        #expect(try a.liveOrders(inPartitions: [q]).isEmpty)

        // B has no lease, then pretends to hold a's epoch: both refused.
        expectMoved { _ = try b.createOrderAndWait(sampleOrder(), actor: customerActor) }
        fenceB.epoch = 1
        expectMoved { _ = try b.transitionOrderAndWait(dispatch(order.id)) }

        // The lease lapses (a stopped renewing) and b takes it: a, still believing in epoch 1, writes nothing.
        try lapseAll(url)
        let claimedB = try #require(try leases.claim(p, node: "b", ttlMs: 60_000))
        fenceB.epoch = claimedB
        #expect(fenceB.epoch == 2)
        let eventsBefore = try a.events(of: order.id).count
        expectMoved { _ = try a.transitionOrderAndWait(dispatch(order.id)) }
        expectMoved { _ = try a.createOrderAndWait(sampleOrder(customer: 9), actor: customerActor) }
        expectMoved { try Self.note(a, order.id) }
        #expect(try a.order(order.id)?.status == .quoted)
        #expect(try a.events(of: order.id).count == eventsBefore)
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM orders") == ["1"])

        // The new owner writes.
        #expect(try b.transitionOrderAndWait(dispatch(order.id)).status == .dispatched)
        try Self.note(b, order.id)
        #expect(try b.events(of: order.id).count == eventsBefore + 2)
    }

    @Test("a refused write leaves the store writing for the partitions it holds")
    func refusalIsLocal() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let leases = try PartitionLeaseStore(url: url)
        let fence = TestFence(node: "a", partition: p)
        let claimedA = try #require(try leases.claim(p, node: "a", ttlMs: 60_000))
        fence.epoch = claimedA
        let store = try fencedStore(url, fence)
        defer { store.close() }
        let order = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order
        // Another partition (q) this node never held: its creation is refused, p's transition still commits.
        let other = TestFence(node: "a", partition: q)
        let otherStore = try fencedStore(url, other)
        defer { otherStore.close() }
        expectMoved { _ = try otherStore.createOrderAndWait(sampleOrder(customer: 8), actor: customerActor) }
        #expect(try store.transitionOrderAndWait(dispatch(order.id)).status == .dispatched)
    }

    @Test("a group-commit batch checks a lease once: many writes queued together commit, a refusal inside the batch does not spare the writes after it their check, and a lease lost between batches refuses the next batch whole")
    func batchedWritesShareOneLeaseCheck() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let leases = try PartitionLeaseStore(url: url)
        let fence = TestFence(node: "a", partition: p)
        let claimed = try #require(try leases.claim(p, node: "a", ttlMs: 60_000))
        fence.epoch = claimed
        let store = try fencedStore(url, fence)
        defer { store.close() }
        let order = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order

        // Queued without waiting, so the writer groups them: a failing transition (from the wrong status) sits
        // between creations; its savepoint rolls back and the creations on both sides commit.
        let results = Mutex<[Int: Result<Bool, StorageError>]>([:])
        let done = DispatchGroup()
        for i in 0..<40 {
            done.enter()
            if i == 20 {
                store.transitionOrder(move(order.id, [.accepted], .pickedUp)) { r in
                    results.withLock { $0[i] = r.map { _ in true } }
                    done.leave()
                }
            } else {
                store.createOrder(sampleOrder(customer: UInt64(100 + i)), idempotency: nil, actor: customerActor) { r in
                    results.withLock { $0[i] = r.map { _ in true } }
                    done.leave()
                }
            }
        }
        done.wait()
        let firstRound = results.withLock { $0 }
        #expect(firstRound.count == 40)
        for (i, r) in firstRound {
            if i == 20 {
                #expect(throws: StorageError.self) { try r.get() }
            } else {
                #expect((try? r.get()) == true, "creation \(i): \(r)")
            }
        }
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM orders") == ["40"])

        // The lease moves to b between batches: every write of the next batch is refused, none commits.
        try lapseAll(url)
        _ = try #require(try leases.claim(p, node: "b", ttlMs: 60_000))
        let refused = Mutex(0)
        for i in 0..<20 {
            done.enter()
            store.createOrder(sampleOrder(customer: UInt64(200 + i)), idempotency: nil, actor: customerActor) { r in
                if case .failure(let e) = r, e.code == .partitionMoved { refused.withLock { $0 += 1 } }
                done.leave()
            }
        }
        done.wait()
        #expect(refused.withLock { $0 } == 20)
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM orders") == ["40"])
    }

    @Test("courier slots: a courier holds at most its capacity of active orders across shards; going back to quoted or ending frees a slot, accepting keeps it")
    func courierSlots() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let leases = try PartitionLeaseStore(url: url)
        let fenceA = TestFence(node: "a", partition: p), fenceB = TestFence(node: "b", partition: q)
        fenceA.epoch = try leases.claim(p, node: "a", ttlMs: 60_000)
        fenceB.epoch = try leases.claim(q, node: "b", ttlMs: 60_000)
        let a = try fencedStore(url, fenceA, capacity: 2), b = try fencedStore(url, fenceB, capacity: 2)
        defer { a.close(); b.close() }
        let a1 = try a.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        let a2 = try a.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        let b1 = try b.createOrderAndWait(sampleOrder(), actor: customerActor).order.id

        _ = try a.transitionOrderAndWait(dispatch(a1))
        _ = try a.transitionOrderAndWait(dispatch(a2))
        expectCode(.courierAtCapacity) { _ = try b.transitionOrderAndWait(dispatch(b1)) }
        #expect(try b.order(b1)?.status == .quoted, "the refused dispatch wrote nothing")
        _ = try a.transitionOrderAndWait(move(a1, [.dispatched], .quoted))   // declined: slot freed
        _ = try b.transitionOrderAndWait(dispatch(b1))
        _ = try b.transitionOrderAndWait(move(b1, [.dispatched], .accepted))   // accepted: slot kept
        expectCode(.courierAtCapacity) { _ = try a.transitionOrderAndWait(dispatch(a1)) }
        _ = try a.transitionOrderAndWait(move(a2, [.dispatched], .cancelled))   // ended: slot freed
        _ = try a.transitionOrderAndWait(dispatch(a1))
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM courier_slots WHERE courier_id = 42") == ["2"])
    }

    @Test("two shards racing to dispatch one courier's last slot: exactly one dispatch commits, every time")
    func courierSlotRace() throws {
        let tmp = try TempDatabase(.postgres)
        defer { tmp.remove() }
        let url = try #require(tmp.postgresURL)
        let leases = try PartitionLeaseStore(url: url)
        let fenceA = TestFence(node: "a", partition: p), fenceB = TestFence(node: "b", partition: q)
        fenceA.epoch = try leases.claim(p, node: "a", ttlMs: 60_000)
        fenceB.epoch = try leases.claim(q, node: "b", ttlMs: 60_000)
        let a = try fencedStore(url, fenceA, capacity: 1), b = try fencedStore(url, fenceB, capacity: 1)
        defer { a.close(); b.close() }
        for round in 0..<20 {
            let x = try a.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
            let y = try b.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
            let outcomes = Mutex<[Result<TransitionOutcome, StorageError>]>([])
            let done = DispatchSemaphore(value: 0)
            for (store, id) in [(a, x), (b, y)] {
                store.transitionOrder(dispatch(id)) { r in
                    outcomes.withLock { $0.append(r) }
                    done.signal()
                }
            }
            done.wait()
            done.wait()
            let results = outcomes.withLock { $0 }
            let won = results.filter { if case .success = $0 { true } else { false } }.count
            let refused = results.filter { if case .failure(let e) = $0 { e.code == .courierAtCapacity } else { false } }.count
            #expect(won == 1 && refused == 1, "round \(round): \(results)")
            // The winner's courier finishes, freeing the slot for the next round.
            for (store, id) in [(a, x), (b, y)] where try store.order(id)?.status == .dispatched {
                _ = try store.transitionOrderAndWait(move(id, [.dispatched], .cancelled))
            }
        }
        #expect(try PostgresAdmin.query(url, "SELECT count(*) FROM courier_slots") == ["0"])
    }

    // MARK: - helpers

    private func fencedStore(_ url: String, _ fence: TestFence, capacity: Int? = nil) throws -> PostgresStore {
        var config = StoreConfiguration()
        config.synchronous = .normal
        config.fence = fence
        config.courierCapacity = capacity
        return try PostgresStore(url: url, configuration: config)
    }

    private func move(_ id: OrderID, _ from: Set<OrderStatus>, _ to: OrderStatus) -> OrderTransitionRequest {
        OrderTransitionRequest(orderID: id, from: from, to: to, actor: .system)
    }

    private func expectCode(_ code: StorageError.Code, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("the write was accepted", sourceLocation: sourceLocation)
        } catch let error as StorageError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a StorageError: \(error)", sourceLocation: sourceLocation)
        }
    }

    private func dispatch(_ id: OrderID) -> OrderTransitionRequest {
        OrderTransitionRequest(orderID: id, from: [.quoted], to: .dispatched, actor: .system, assignCourier: CourierID(42))
    }

    private static func note(_ store: PostgresStore, _ id: OrderID) throws(StorageError) {
        let done = Mutex<Result<Void, StorageError>?>(nil)
        let signal = DispatchSemaphore(value: 0)
        store.appendOrderNote(id, status: .quoted, actor: .system, reason: "arrived_pickup", atMs: 1) { r in
            done.withLock { $0 = r }
            signal.signal()
        }
        signal.wait()
        try done.withLock { $0 }?.get()
    }

    private func expectMoved(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("the write was accepted", sourceLocation: sourceLocation)
        } catch let error as StorageError {
            #expect(error.code == .partitionMoved, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a StorageError: \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// A fence that puts every pick-up in one partition and holds the epoch a test sets.
final class TestFence: OrderWriteFence, @unchecked Sendable {
    let node: String
    private let partitionID: Int64
    private let held = Mutex<Int64?>(nil)
    var epoch: Int64? {
        get { held.withLock { $0 } }
        set { held.withLock { $0 = newValue } }
    }

    init(node: String, partition: Int64) {
        self.node = node
        partitionID = partition
    }

    func partition(ofPickup pickup: E7Point) -> Int64 { partitionID }
    func epoch(of partition: Int64) -> Int64? { partition == partitionID ? epoch : nil }
}

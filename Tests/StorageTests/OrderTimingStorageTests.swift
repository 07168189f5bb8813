import GRDB
import Testing
@testable import Storage
import Vocabulary

@Suite("Order timing in the store: ready time, deadline, maximum ride")
struct OrderTimingStorageTests {
    @Test("timing round-trips through create, read, list, transitions and the live set; absent fields stay nil",
          arguments: StoreKind.testable)
    func roundTrip(kind: StoreKind) throws {
        let tmp = try TempDatabase(kind)
        defer { tmp.remove() }
        let store = try tmp.open()
        defer { store.close() }
        var timed = sampleOrder()
        timed.timing = OrderTiming(readyInSeconds: 600, deadlineSeconds: 2_400, maxRideSeconds: 900)
        let created = try store.createOrderAndWait(timed, actor: customerActor).order
        #expect(created.timing == timed.timing)
        #expect(try store.order(created.id)?.timing == timed.timing)
        let plain = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order
        #expect(try store.order(plain.id)?.timing == OrderTiming())
        #expect(try store.liveOrders().first { $0.id == created.id }?.timing == timed.timing)
        #expect(try store.orders(OrderQuery()).first { $0.id == created.id }?.timing.maxRideSeconds == 900)
    }

    @Test("out-of-range timing is refused by the store (invalid_input) and by the schema's CHECKs")
    func refused() throws {
        let tmp = try TempDatabase()
        defer { tmp.remove() }
        let store = try tmp.openSQLite()
        defer { store.close() }
        for bad in [OrderTiming(readyInSeconds: -1), OrderTiming(deadlineSeconds: 0), OrderTiming(maxRideSeconds: 86_401),
                    OrderTiming(readyInSeconds: 900, deadlineSeconds: 600)] {
            var order = sampleOrder()
            order.timing = bad
            #expect(throws: StorageError.self, "\(bad)") { _ = try store.createOrderAndWait(order, actor: customerActor) }
        }
        let id = try store.createOrderAndWait(sampleOrder(), actor: customerActor).order.id
        for column in ["ready_in_s = -1", "deadline_s = 0", "max_ride_s = 90000"] {
            #expect(throws: DatabaseError.self, "\(column)") {
                try store.pool.write { db in try db.execute(sql: "UPDATE orders SET \(column) WHERE id = \(id.rawValue)") }
            }
        }
    }
}

import Foundation
import Testing
import Storage
import Vocabulary

/// A fresh directory under the system temp dir holding one SQLite file; removed by `remove()`.
struct TempDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("hexfleet.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hexfleet-storage-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func open(_ synchronous: StoreConfiguration.Synchronous = .normal, groupCommit: Bool = true,
              nowMs: (@Sendable () -> Int64)? = nil, outbox: Bool = false) throws -> SQLiteStore {
        var config = StoreConfiguration()
        config.outbox = outbox
        config.synchronous = synchronous
        config.groupCommit = groupCommit
        if let nowMs { config.nowMs = nowMs }
        return try SQLiteStore(path: path, configuration: config)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// A valid order in Monaco for customer `customer`.
func sampleOrder(customer: UInt64 = 7, quote: String? = "q_1", price: Int64 = 1234) -> NewOrder {
    NewOrder(customerID: CustomerID(customer), vehicle: "car",
             pickup: E7Point(latE7: 437_384_000, lngE7: 74_246_000),
             dropoff: E7Point(latE7: 437_311_000, lngE7: 74_197_000),
             quoteID: quote, priceCents: price, currency: "EUR", surgeMilli: 1000,
             distanceMeters: 1_800, durationSeconds: 420)
}

let customerActor = ActorRef(.customer, 7)

/// Records an issue unless `body` throws a `StorageError` with `code`.
func expectStorageError<T>(_ code: StorageError.Code, _ note: String = "",
                           sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected \(code.name), got success \(note)", sourceLocation: sourceLocation)
    } catch let e as StorageError {
        #expect(e.code == code, "\(note)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code.name), got \(error) \(note)", sourceLocation: sourceLocation)
    }
}

import CLibPQ
import Foundation
import Testing
import Storage
import Vocabulary

/// The two stores the suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// The server the PostgreSQL cases use: `HEXFLEET_TEST_POSTGRES`, a libpq URL of a database the tests may
    /// create databases from (scripts/test starts one with scripts/postgres-start).
    static let postgresURL: String? = ProcessInfo.processInfo.environment["HEXFLEET_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// SQLite always; PostgreSQL when a server is configured (`PostgresAvailability` says so when it is not).
    static let testable: [StoreKind] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
}

/// A fresh store location: a directory under the system temp dir holding one SQLite file, or a new database on the
/// test PostgreSQL server; removed (dropped) by `remove()`.
struct TempDatabase {
    let kind: StoreKind
    let directory: URL
    /// The PostgreSQL database's URL (`.postgres` only).
    let postgresURL: String?
    private let databaseName: String
    var path: String { directory.appendingPathComponent("hexfleet.sqlite").path }

    init(_ kind: StoreKind = .sqlite) throws {
        self.kind = kind
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hexfleet-storage-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databaseName = "hf_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        if kind == .postgres {
            let server = try #require(StoreKind.postgresURL, "HEXFLEET_TEST_POSTGRES is unset")
            try PostgresAdmin.execute(server, "CREATE DATABASE \(databaseName)")
            postgresURL = PostgresAdmin.url(server, database: databaseName)
        } else {
            postgresURL = nil
        }
    }

    func open(_ synchronous: StoreConfiguration.Synchronous = .normal, groupCommit: Bool = true,
              nowMs: (@Sendable () -> Int64)? = nil) throws -> any Store & FenceStore {
        var config = StoreConfiguration()
        config.synchronous = synchronous
        config.groupCommit = groupCommit
        if let nowMs { config.nowMs = nowMs }
        switch kind {
        case .sqlite: return try SQLiteStore(path: path, configuration: config)
        case .postgres: return try PostgresStore(url: try #require(postgresURL), configuration: config)
        }
    }

    /// The SQLite store (tests of SQLite's own behaviour).
    func openSQLite(_ synchronous: StoreConfiguration.Synchronous = .normal, groupCommit: Bool = true,
                    nowMs: (@Sendable () -> Int64)? = nil, outbox: Bool = false) throws -> SQLiteStore {
        var config = StoreConfiguration()
        config.outbox = outbox
        config.synchronous = synchronous
        config.groupCommit = groupCommit
        if let nowMs { config.nowMs = nowMs }
        return try SQLiteStore(path: path, configuration: config)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        if kind == .postgres, let server = StoreKind.postgresURL {
            try? PostgresAdmin.execute(server, "DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)")
        }
    }
}

/// Administration of the test server through libpq: what the tests do outside the store (make and drop
/// databases, break connections, check constraints with raw SQL).
enum PostgresAdmin {
    struct Failure: Error, CustomStringConvertible {
        let sqlState: String?
        let message: String
        var description: String { "[\(sqlState ?? "-")] \(message)" }
    }

    /// Runs SQL on a fresh connection to `url`; throws the server's error.
    static func execute(_ url: String, _ sql: String) throws {
        _ = try query(url, sql)
    }

    /// Runs SQL and answers the first column of each row.
    static func query(_ url: String, _ sql: String) throws -> [String?] {
        guard let conn = PQconnectdb(url) else { throw Failure(sqlState: nil, message: "out of memory") }
        defer { PQfinish(conn) }
        guard PQstatus(conn) == CONNECTION_OK else {
            throw Failure(sqlState: nil, message: String(cString: PQerrorMessage(conn)))
        }
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw Failure(sqlState: hf_pq_sqlstate(result).map { String(cString: $0) },
                          message: String(cString: PQresultErrorMessage(result)))
        }
        return (0..<PQntuples(result)).map { r in
            PQgetisnull(result, r, 0) != 0 ? nil : String(cString: PQgetvalue(result, r, 0))
        }
    }

    /// `url` with its database (the URL's path) replaced.
    static func url(_ server: String, database: String) -> String {
        guard let scheme = server.range(of: "://") else { return server + " dbname=\(database)" }
        let rest = server[scheme.upperBound...]
        let query = rest.firstIndex(of: "?")
        let authorityEnd = rest[..<(query ?? rest.endIndex)].firstIndex(of: "/") ?? query ?? rest.endIndex
        return String(server[..<authorityEnd]) + "/" + database + (query.map { String(rest[$0...]) } ?? "")
    }
}

@Suite("PostgreSQL availability")
struct PostgresAvailability {
    @Test("the PostgreSQL cases of the Storage suite run (HEXFLEET_TEST_POSTGRES is set)",
          .enabled(if: StoreKind.postgresURL != nil,
                   "HEXFLEET_TEST_POSTGRES is unset, so every Storage test runs against SQLite only; start a server with eval \"$(scripts/postgres-start)\" (scripts/test does)"))
    func serverReachable() throws {
        let server = try #require(StoreKind.postgresURL)
        #expect(try PostgresAdmin.query(server, "SHOW server_version_num").first??.hasPrefix("15") == true)
    }
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

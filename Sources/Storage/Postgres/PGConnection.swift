import Foundation
import CLibPQ

/// A failed libpq call: the server's SQLSTATE (when it answered) and whether the connection itself is gone.
struct PGError: Error, Sendable, CustomStringConvertible {
    /// Five-character SQLSTATE, or nil when the server did not answer (connection lost, libpq's own failure).
    var sqlState: String?
    var message: String
    /// The connection is unusable: drop it and connect again.
    var connectionLost: Bool

    var description: String { "\(sqlState.map { "[\($0)] " } ?? "")\(message)" }

    /// The StorageError this becomes: disk full (53100) is `storage_full` like SQLITE_FULL; text PostgreSQL cannot
    /// hold (a NUL character, an invalid encoding) is `invalid_input`; anything else `storage_failure`.
    var storageError: StorageError {
        switch sqlState {
        case "53100": return StorageError(.storageFull, "the disk under PostgreSQL is full: \(message)")
        case "22021", "22P05": return StorageError(.invalidInput, "text PostgreSQL cannot store (a NUL character?): \(message)")
        default: return StorageError(.storageFailure, "PostgreSQL: \(description)")
        }
    }
}

/// A parameter of a statement: NULL, text (numbers go as their decimal text) or bytes (sent in binary, for BYTEA).
enum PGParam: Sendable {
    case text(String)
    case bytes([UInt8])
    case null

    static func int(_ v: Int64) -> PGParam { .text(String(v)) }
    static func int(_ v: Int) -> PGParam { .text(String(v)) }
    static func int(_ v: Int32) -> PGParam { .text(String(v)) }
    /// An unsigned id as the same 64 bits in a signed BIGINT (as in SQLite), so every UInt64 round-trips.
    static func id(_ v: UInt64) -> PGParam { .text(String(Int64(bitPattern: v))) }
    static func optional(_ v: String?) -> PGParam { v.map(PGParam.text) ?? .null }
    static func optional(_ v: Int64?) -> PGParam { v.map { PGParam.int($0) } ?? .null }
}

/// The rows of one statement, copied out of libpq's result in text format.
struct PGRows: Sendable {
    /// Row-major cells; nil is SQL NULL.
    let cells: [[String?]]
    /// Rows the statement changed (`UPDATE`, `DELETE`, `INSERT`), 0 for others.
    let affected: Int

    var count: Int { cells.count }
    var first: [String?]? { cells.first }
}

/// One libpq connection, used by one thread at a time (the writer's, or a reader's between take and give back).
///
/// Statements go as named prepared statements, prepared once per connection on first use (the SQL text is the
/// key), with text-format results. `connect` takes a libpq URL or keyword string, so everything libpq offers there
/// holds: several hosts with `target_session_attrs=read-write` (failover to the new primary), `connect_timeout`,
/// SSL modes, `options=-c…`.
final class PGConnection: @unchecked Sendable {
    private var raw: OpaquePointer?
    private let url: String
    private var prepared: [String: String] = [:]
    /// Partition leases (partition → epoch) whose row the open transaction holds `FOR SHARE`, so a batch checks each
    /// lease once; the writer empties it whenever a transaction or a savepoint rolls back (the lock may go with it).
    var leasesLockedInTransaction: [Int64: Int64] = [:]

    /// Connects, or throws with libpq's reason.
    init(url: String) throws(PGError) {
        self.url = url
        try connect()
    }

    deinit { if let raw { PQfinish(raw) } }

    private func connect() throws(PGError) {
        if let raw { PQfinish(raw) }
        prepared.removeAll()
        leasesLockedInTransaction.removeAll()
        raw = PQconnectdb(url)
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let why = raw.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            throw PGError(sqlState: nil, message: "cannot connect: \(Self.trimmed(why))", connectionLost: true)
        }
        // Notices (e.g. "relation already exists, skipping") are for people at a terminal, not the engine's stderr.
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
    }

    /// Whether libpq still considers the connection usable.
    var isOK: Bool { raw.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Drops the connection and connects again (libpq picks the host again, honouring `target_session_attrs`).
    func reconnect() throws(PGError) { try connect() }

    /// Runs SQL with no parameters through the simple protocol (may hold several statements: migrations, BEGIN).
    func execute(_ sql: String) throws(PGError) {
        guard let raw else { throw PGError(sqlState: nil, message: "not connected", connectionLost: true) }
        let result = PQexec(raw, sql)
        defer { PQclear(result) }
        try check(result, raw)
    }

    /// Runs one statement with parameters as a prepared statement and copies its rows out.
    @discardableResult
    func query(_ sql: String, _ params: [PGParam] = []) throws(PGError) -> PGRows {
        guard let raw else { throw PGError(sqlState: nil, message: "not connected", connectionLost: true) }
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "hf\(prepared.count + 1)"
            let result = PQprepare(raw, name, sql, Int32(params.count), nil)
            defer { PQclear(result) }
            try check(result, raw)
            prepared[sql] = name
        }
        // libpq copies the values before it returns, so the buffers only need to outlive the call.
        var buffers: [[CChar]?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        buffers.reserveCapacity(params.count)
        for p in params {
            switch p {
            case .null: buffers.append(nil); lengths.append(0); formats.append(0)
            case .text(let s):
                // A C string ends at its first NUL: refuse rather than store the text cut short (PostgreSQL's TEXT
                // cannot hold a NUL anyway, 22021).
                guard !s.utf8.contains(0) else {
                    throw PGError(sqlState: "22021", message: "text holds a NUL character", connectionLost: false)
                }
                buffers.append(Array(s.utf8CString)); lengths.append(0); formats.append(0)
            case .bytes(let b):
                buffers.append(b.map { CChar(bitPattern: $0) } + [0]); lengths.append(Int32(b.count)); formats.append(1)
            }
        }
        let result: OpaquePointer? = withPointers(buffers) { values in
            PQexecPrepared(raw, name, Int32(params.count), values, lengths, formats, 0)
        }
        defer { PQclear(result) }
        try check(result, raw)
        guard let result else { throw PGError(sqlState: nil, message: "no result", connectionLost: !isOK) }
        let rows = Int(PQntuples(result)), columns = Int(PQnfields(result))
        var cells: [[String?]] = []
        cells.reserveCapacity(rows)
        for r in 0..<rows {
            var row: [String?] = []
            row.reserveCapacity(columns)
            for c in 0..<columns {
                if PQgetisnull(result, Int32(r), Int32(c)) != 0 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            cells.append(row)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PGRows(cells: cells, affected: affected)
    }

    /// The transaction state libpq reports: idle, in a transaction, or in a failed one.
    var inFailedTransaction: Bool { raw.map { PQtransactionStatus($0) == PQTRANS_INERROR } ?? true }

    private func check(_ result: OpaquePointer?, _ raw: OpaquePointer) throws(PGError) {
        guard let result else {
            throw PGError(sqlState: nil, message: Self.trimmed(String(cString: PQerrorMessage(raw))), connectionLost: !isOK)
        }
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let state = hf_pq_sqlstate(result).map { String(cString: $0) }
        let message = Self.trimmed(String(cString: PQresultErrorMessage(result)))
        throw PGError(sqlState: state, message: message.isEmpty ? "statement failed" : message,
                      connectionLost: !isOK || state?.hasPrefix("08") == true || state == "57P01")
    }

    private static func trimmed(_ s: String) -> String {
        String(s.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces).prefix(500))
    }

    private func withPointers<R>(_ buffers: [[CChar]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(buffers.count)
        func nest(_ i: Int) -> R {
            if i == buffers.count { return body(pointers) }
            guard let b = buffers[i] else {
                pointers.append(nil)
                return nest(i + 1)
            }
            return b.withUnsafeBufferPointer { bp in
                pointers.append(bp.baseAddress)
                return nest(i + 1)
            }
        }
        return nest(0)
    }
}

extension String {
    /// The bytes of a BYTEA value in PostgreSQL's text output (`\x` and hex digits).
    var byteaBytes: [UInt8]? {
        let u = Array(utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x"), u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity((u.count - 2) / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var i = 2
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

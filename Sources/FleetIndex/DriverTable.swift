import HexGeo
import Vocabulary

/// Live state of every driver: one 48-byte row per driver indexed by `DriverSlot`, an open-addressing
/// `DriverID → DriverSlot` map, and a spatial index of cell buckets (intrusive doubly linked lists through the rows'
/// `next`/`prev`, so moving a driver between cells allocates nothing).
///
/// Rows, not a column per field: an upsert writes most of a row, and a query walking a cell's list reads position,
/// status, time and the link of each row it passes, so a row costs one cache miss (two where it straddles a line)
/// instead of one per column, in a fleet too big for the cache. Nothing scans a single column often enough to
/// favour columns.
///
/// Invariants (checked by `checkInvariants()`): `idMap` maps each row's id to that row; each row is on exactly the
/// list of its `cellKey`, whose bucket count equals its list length. Rows are dense: eviction moves the last row
/// into the hole, so memory shrinks with the fleet.
///
/// Loop-owned: not `Sendable`, every call from the thread that owns the table.
public final class DriverTable {
    /// How the sphere is cut into buckets.
    public let scheme: any SpatialCellScheme
    /// A driver not heard from for this long leaves query results and is evicted by `evictStale`.
    public var staleAfterMs: Int64

    /// How long an evicted driver's last timestamp is remembered, so that a fix not newer than it is still a
    /// `replay` after the row is gone (0: forgotten at eviction). Ingest sets it to its skew window behind the clock,
    /// beyond which a fix is dropped as `skew` before it reaches the table.
    public var replayMemoryMs: Int64 = 0

    /// Row = DriverSlot.rawValue.
    var rows: [DriverRow] = []
    /// The last timestamp of each driver evicted within `replayMemoryMs`.
    var evictionMarks: [UInt64: Int64] = [:]
    /// The marks in eviction order (nearly timestamp order: a row is evicted once it is `staleAfterMs` old), so the
    /// old ones are forgotten from the front; `evictionMarkHead` is the first not yet looked at.
    var evictionMarkOrder: [(id: UInt64, timestampMs: Int64)] = []
    var evictionMarkHead = 0

    var idMap = SlotHashIndex()
    var buckets = CellBuckets()
    var scratch = QueryScratch()
    /// Which path the last `nearest`/`within`/`nearestByScan` query took and how many cells it visited: one store per query.
    package internal(set) var lastSearch = SearchReport(path: .scan, cellsVisited: 0)

    static let none = UInt32.max

    /// An empty table.
    public init(scheme: any SpatialCellScheme, staleAfterMs: Int64 = 120_000) {
        self.scheme = scheme
        self.staleAfterMs = staleAfterMs
    }

    /// Live rows (drivers held, stale or not).
    public var count: Int { rows.count }

    /// Reserves room for `n` drivers, so growth to `n` reallocates nothing.
    public func reserveCapacity(_ n: Int) {
        rows.reserveCapacity(n)
        idMap.reserve(n, rows: rows)
    }

    /// What `upsert` did.
    public enum UpsertOutcome: Sendable, Equatable {
        case inserted
        case updated
        /// The fix is not newer than the last accepted one for this driver; nothing changed.
        case replay
    }

    /// Stores a driver's new fix if it is newer than the last one accepted.
    /// - Complexity: O(1) expected; allocates only when the rows or a map grow.
    @discardableResult
    @inline(__always)
    public func upsert(_ s: DriverState) -> UpsertOutcome {
        var previous = PreviousFix.none
        return upsert(s, previous: &previous)
    }

    /// `upsert`, also answering where an updated driver was before this fix (its row is in cache here, where a
    /// listener reading it later would pay a miss); `previous` is left alone unless the outcome is `.updated`.
    @discardableResult
    public func upsert(_ s: DriverState, previous: inout PreviousFix) -> UpsertOutcome {
        let position = s.position
        if let row = idMap.find(s.id.rawValue, rows: rows) {
            let r = Int(row)
            guard s.timestampMs > rows[r].timestampMs else { return .replay }
            previous = PreviousFix(latE7: rows[r].latE7, lngE7: rows[r].lngE7)
            // A driver inside its cell's inscribed circle is still in that cell: skip the cell computation.
            let current = rows[r].cellKey
            let key = buckets.isSurelyInside(current, lat: position.lat, lng: position.lng) ? current : scheme.cell(of: position)
            var updated = rows[r]
            updated.takeFix(of: s)
            rows[r] = updated
            if current != key {
                unlink(row)
                rows[r].cellKey = key
                link(row)
            }
            return .updated
        }
        if !evictionMarks.isEmpty, let mark = evictionMarks[s.id.rawValue] {
            guard s.timestampMs > mark else { return .replay }
            evictionMarks[s.id.rawValue] = nil
        }
        let key = scheme.cell(of: position)
        let row = UInt32(rows.count)
        rows.append(DriverRow(s, cellKey: key))
        idMap.insert(s.id.rawValue, row: row, rows: rows)
        link(row)
        return .inserted
    }

    /// Reads the index entries, rows and cell buckets that upserts of `drivers` will need, so that the upserts
    /// that follow find them in cache. In a batch the loads of different drivers do not depend on each other, so the
    /// CPU overlaps their cache misses (memory-level parallelism) instead of paying three or four of them one after
    /// another inside each upsert: what a receive batch of a million-driver fleet costs is mostly those misses.
    /// Changes nothing. Returns a value made from the loads only so that they are not optimized away.
    /// - Complexity: O(drivers).
    public func warm(_ drivers: UnsafeBufferPointer<UInt64>) -> UInt64 {
        var sink: UInt64 = 0
        for id in drivers { sink &+= UInt64(idMap.home(id)) }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: drivers.count) { found in
            var known = 0
            for id in drivers {
                guard let row = idMap.find(id, rows: rows) else { continue }
                let r = Int(row)
                found[known] = r
                known += 1
                // Both ends of the row: a row that straddles a cache line needs both lines.
                sink &+= UInt64(bitPattern: rows[r].timestampMs) &+ UInt64(rows[r].status)
            }
            // The buckets come last: their keys are the row loads above, now cached.
            for r in found[0..<known] { sink &+= buckets.touch(rows[r].cellKey) }
            return sink
        }
    }

    /// The last accepted timestamp of a driver, or nil when unknown.
    public func lastTimestampMs(of id: DriverID) -> Int64? {
        idMap.find(id.rawValue, rows: rows).map { rows[Int($0)].timestampMs }
    }

    /// A driver's state, or nil when unknown (stale drivers are returned until evicted).
    public func state(of id: DriverID) -> DriverState? {
        idMap.find(id.rawValue, rows: rows).map { state(row: Int($0)) }
    }

    /// Whether a driver's last fix is older than the staleness limit at `nowMs`.
    public func isStale(_ id: DriverID, nowMs: Int64) -> Bool {
        guard let row = idMap.find(id.rawValue, rows: rows) else { return true }
        return rows[Int(row)].timestampMs < nowMs - staleAfterMs
    }

    /// Removes a driver; returns whether it was present.
    @discardableResult
    public func remove(_ id: DriverID) -> Bool {
        guard let row = idMap.find(id.rawValue, rows: rows) else { return false }
        removeRow(row)
        return true
    }

    /// Evicts drivers not heard from since `nowMs - staleAfterMs`, scanning at most `maxRows` rows from a
    /// cursor that persists between calls, so a big fleet is swept over several loop ticks.
    /// - Returns: the number of drivers evicted.
    @discardableResult
    public func evictStale(nowMs: Int64, maxRows: Int = .max) -> Int {
        let cutoff = nowMs - staleAfterMs
        var evicted = 0
        var scanned = 0
        while scanned < maxRows && !rows.isEmpty {
            if evictCursor >= rows.count { evictCursor = 0; if scanned > 0 { break } }
            let r = evictCursor
            scanned += 1
            if rows[r].timestampMs < cutoff {
                if replayMemoryMs > 0 { rememberEviction(id: rows[r].id, timestampMs: rows[r].timestampMs) }
                removeRow(UInt32(r))   // the last row moves into r: look at r again
                evicted += 1
            } else {
                evictCursor += 1
            }
        }
        if evicted > 0 { shrinkIfSparse() }
        forgetEvictions(before: nowMs &- replayMemoryMs)
        return evicted
    }
    var evictCursor = 0

    /// Evicted drivers whose last timestamp is still remembered (`replayMemoryMs`).
    public var evictionMarkCount: Int { evictionMarks.count }

    private func rememberEviction(id: UInt64, timestampMs: Int64) {
        evictionMarks[id] = timestampMs
        evictionMarkOrder.append((id, timestampMs))
    }

    /// Forgets the marks older than `cutoff` from the front of the eviction order (a newer mark ahead of an older
    /// one keeps it a little longer: harmless, a fix that old is a `skew` drop anyway).
    private func forgetEvictions(before cutoff: Int64) {
        while evictionMarkHead < evictionMarkOrder.count && evictionMarkOrder[evictionMarkHead].timestampMs < cutoff {
            let (id, timestampMs) = evictionMarkOrder[evictionMarkHead]
            // The driver came back (mark gone) or was evicted again later (a newer mark): not this entry's to drop.
            if evictionMarks[id] == timestampMs { evictionMarks[id] = nil }
            evictionMarkHead += 1
        }
        if evictionMarkHead > 1024 && evictionMarkHead * 2 > evictionMarkOrder.count {
            evictionMarkOrder.removeFirst(evictionMarkHead)
            evictionMarkHead = 0
        } else if evictionMarkHead == evictionMarkOrder.count && evictionMarkHead > 0 {
            evictionMarkOrder.removeAll(keepingCapacity: evictionMarkOrder.count < 4096)
            evictionMarkHead = 0
        }
    }

    /// The positions of fresh drivers in `status`, in row order: one pass over the rows, no hash look-ups and
    /// no `DriverState` per row (per-zone supply counts for surge need only this; 1M rows take a few ms).
    public func positions(of status: DriverStatus, nowMs: Int64) -> [LatLng] {
        var out: [LatLng] = []
        forEachFreshRow(in: status, nowMs: nowMs) { r in
            out.append(LatLng(degrees: Double(rows[r].latE7) * 1e-7, Double(rows[r].lngE7) * 1e-7))
        }
        return out
    }

    /// The bucket keys (`scheme`'s cells: H3 cell ids with `H3CellScheme`) of fresh drivers in `status`, in row
    /// order: per-zone counts without a cell computation per driver.
    public func cellKeys(of status: DriverStatus, nowMs: Int64) -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(rows.count)
        forEachFreshRow(in: status, nowMs: nowMs) { out.append(rows[$0].cellKey) }
        return out
    }

    /// Calls `body` with every row in `status` whose fix is not stale at `nowMs`, in row order.
    @inline(__always)
    private func forEachFreshRow(in status: DriverStatus, nowMs: Int64, _ body: (Int) -> Void) {
        let cutoff = nowMs - staleAfterMs
        let wanted = status.rawValue
        for r in 0..<rows.count where rows[r].status == wanted && rows[r].timestampMs >= cutoff { body(r) }
    }

    /// Every driver's state, in row order (for snapshots and tests).
    public func allStates() -> [DriverState] { (0..<rows.count).map { state(row: $0) } }

    // MARK: - Rows

    @inline(__always)
    func state(row r: Int) -> DriverState {
        rows[r].state
    }

    func removeRow(_ row: UInt32) {
        let r = Int(row)
        unlink(row)
        idMap.remove(rows[r].id, rows: rows)
        let last = rows.count - 1
        if r != last {
            // Move the last row into the hole and repoint everything that named it.
            let lastRow = UInt32(last)
            unlink(lastRow)
            rows[r] = rows[last]
            idMap.repoint(rows[r].id, from: lastRow, to: row)
            link(row)
        }
        rows.removeLast()
    }

    /// Gives memory back once the fleet has shrunk to under a quarter of the rows' capacity.
    func shrinkIfSparse() {
        guard rows.capacity > 1024 && rows.count < rows.capacity / 4 else { return }
        rows = Array(rows)
        idMap.rebuild(rows: rows)
        buckets.shrinkIfSparse()
    }

    // MARK: - Bucket lists

    @inline(__always)
    func link(_ row: UInt32) {
        let r = Int(row)
        let key = rows[r].cellKey
        let head = buckets.pushFront(key, row: row) {
            let c = scheme.center(of: key)
            return (c.lat, c.lng, scheme.innerRadiusMeters(of: key))
        }
        rows[r].prev = Self.none
        rows[r].next = head
        if head != Self.none { rows[Int(head)].prev = row }
    }

    @inline(__always)
    func unlink(_ row: UInt32) {
        let r = Int(row)
        let p = rows[r].prev, n = rows[r].next
        if n != Self.none { rows[Int(n)].prev = p }
        if p != Self.none {
            rows[Int(p)].next = n
            buckets.decrement(rows[r].cellKey)
        } else {
            buckets.popFront(rows[r].cellKey, newHead: n)
        }
        rows[r].next = Self.none; rows[r].prev = Self.none
    }
}

/// One driver's row: the last accepted fix, its bucket and its links in that bucket's list. 47 bytes, 48 apart.
struct DriverRow {
    var id: UInt64
    var timestampMs: Int64
    /// The bucket (cell) the row is listed in.
    var cellKey: UInt64
    var latE7: Int32
    var lngE7: Int32
    /// The next and previous rows in the bucket's list, or `DriverTable.none`.
    var next: UInt32
    var prev: UInt32
    var speed: UInt16
    var heading: UInt16
    var accuracy: UInt16
    var status: UInt8

    /// A new driver's row, on no list yet.
    init(_ s: DriverState, cellKey: UInt64) {
        id = s.id.rawValue
        timestampMs = 0; latE7 = 0; lngE7 = 0; speed = 0; heading = 0; accuracy = 0; status = 0
        self.cellKey = cellKey
        next = DriverTable.none
        prev = DriverTable.none
        takeFix(of: s)
    }

    /// Stores `s`'s fix (time, position, motion, status); the id, cell and links stay.
    @inline(__always)
    mutating func takeFix(of s: DriverState) {
        timestampMs = s.timestampMs
        latE7 = s.latE7
        lngE7 = s.lngE7
        speed = s.speedCmPerSecond
        heading = s.headingCentidegrees
        accuracy = s.accuracyDecimetres
        status = s.status.rawValue
    }

    /// The row as a driver's state.
    var state: DriverState {
        DriverState(id: DriverID(id), latE7: latE7, lngE7: lngE7, timestampMs: timestampMs, speedCmPerSecond: speed,
                    headingCentidegrees: heading, accuracyDecimetres: accuracy,
                    status: DriverStatus(rawValue: status) ?? .offline)
    }
}

import HexGeo

/// Live state of every driver: struct-of-arrays columns indexed by `DriverSlot`, an open-addressing
/// `DriverID → DriverSlot` map, and a spatial index of cell buckets (intrusive doubly linked lists through
/// the `next`/`prev` columns, so moving a driver between cells allocates nothing).
///
/// Invariants (checked by `checkInvariants()`): every column has `count` rows; `idMap` maps each row's id to
/// that row; each row is on exactly the list of `cellKey[row]`, whose bucket count equals its list length.
/// Rows are dense: eviction moves the last row into the hole, so memory shrinks with the fleet.
///
/// Loop-owned: not `Sendable`, every call from the thread that owns the table.
public final class DriverTable {
    /// How the sphere is cut into buckets.
    public let scheme: any SpatialCellScheme
    /// A driver not heard from for this long leaves query results and is evicted by `evictStale`.
    public var staleAfterMs: Int64

    // Columns (row = DriverSlot.rawValue).
    var ids: [UInt64] = []
    var latE7: [Int32] = []
    var lngE7: [Int32] = []
    var timestampMs: [Int64] = []
    var speed: [UInt16] = []
    var heading: [UInt16] = []
    var accuracy: [UInt16] = []
    var status: [UInt8] = []
    var cellKey: [UInt64] = []
    var next: [UInt32] = []
    var prev: [UInt32] = []

    var idMap = SlotHashIndex()
    var buckets = CellBuckets()
    var scratch = QueryScratch()

    static let none = UInt32.max

    /// An empty table.
    public init(scheme: any SpatialCellScheme, staleAfterMs: Int64 = 120_000) {
        self.scheme = scheme
        self.staleAfterMs = staleAfterMs
    }

    /// Live rows (drivers held, stale or not).
    public var count: Int { ids.count }

    /// Reserves room for `n` drivers, so growth to `n` reallocates nothing.
    public func reserveCapacity(_ n: Int) {
        ids.reserveCapacity(n); latE7.reserveCapacity(n); lngE7.reserveCapacity(n)
        timestampMs.reserveCapacity(n); speed.reserveCapacity(n); heading.reserveCapacity(n)
        accuracy.reserveCapacity(n); status.reserveCapacity(n); cellKey.reserveCapacity(n)
        next.reserveCapacity(n); prev.reserveCapacity(n)
        idMap.reserve(n, ids: ids)
    }

    /// What `upsert` did.
    public enum UpsertOutcome: Sendable, Equatable {
        case inserted
        case updated
        /// The fix is not newer than the last accepted one for this driver; nothing changed.
        case replay
    }

    /// Stores a driver's new fix if it is newer than the last one accepted.
    /// - Complexity: O(1) expected; allocates only when a column or map grows.
    @discardableResult
    public func upsert(_ s: DriverState) -> UpsertOutcome {
        let position = s.position
        if let row = idMap.find(s.id.rawValue, ids: ids) {
            let r = Int(row)
            guard s.timestampMs > timestampMs[r] else { return .replay }
            // A driver inside its cell's inscribed circle is still in that cell: skip the cell computation.
            let key = buckets.isSurelyInside(cellKey[r], lat: position.lat, lng: position.lng)
                ? cellKey[r] : scheme.cell(of: position)
            latE7[r] = s.latE7; lngE7[r] = s.lngE7; timestampMs[r] = s.timestampMs
            speed[r] = s.speedCmPerSecond; heading[r] = s.headingCentidegrees
            accuracy[r] = s.accuracyDecimetres; status[r] = s.status.rawValue
            if cellKey[r] != key {
                unlink(row)
                cellKey[r] = key
                link(row)
            }
            return .updated
        }
        let key = scheme.cell(of: position)
        let row = UInt32(ids.count)
        ids.append(s.id.rawValue); latE7.append(s.latE7); lngE7.append(s.lngE7)
        timestampMs.append(s.timestampMs); speed.append(s.speedCmPerSecond)
        heading.append(s.headingCentidegrees); accuracy.append(s.accuracyDecimetres)
        status.append(s.status.rawValue); cellKey.append(key)
        next.append(Self.none); prev.append(Self.none)
        idMap.insert(s.id.rawValue, row: row, ids: ids)
        link(row)
        return .inserted
    }

    /// Reads the index entries, row columns and cell buckets that upserts of `drivers` will need, so that the upserts
    /// that follow find them in cache. In a batch the loads of different drivers do not depend on each other, so the
    /// CPU overlaps their cache misses (memory-level parallelism) instead of paying four or five of them one after
    /// another inside each upsert: what a receive batch of a million-driver fleet costs is mostly those misses.
    /// Changes nothing. Returns a value made from the loads only so that they are not optimized away.
    /// - Complexity: O(drivers).
    public func warm(_ drivers: UnsafeBufferPointer<UInt64>) -> UInt64 {
        var sink: UInt64 = 0
        for id in drivers { sink &+= UInt64(idMap.home(id)) }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: drivers.count) { rows in
            var known = 0
            for id in drivers {
                guard let row = idMap.find(id, ids: ids) else { continue }
                let r = Int(row)
                rows[known] = r
                known += 1
                sink &+= UInt64(bitPattern: timestampMs[r]) &+ cellKey[r] &+ UInt64(UInt32(bitPattern: latE7[r]))
                    &+ UInt64(UInt32(bitPattern: lngE7[r])) &+ UInt64(speed[r]) &+ UInt64(heading[r])
                    &+ UInt64(accuracy[r]) &+ UInt64(status[r])
            }
            // The buckets come last: their keys are the cellKey loads above, now cached.
            for r in rows[0..<known] { sink &+= buckets.touch(cellKey[r]) }
            return sink
        }
    }

    /// The last accepted timestamp of a driver, or nil when unknown.
    public func lastTimestampMs(of id: DriverID) -> Int64? {
        idMap.find(id.rawValue, ids: ids).map { timestampMs[Int($0)] }
    }

    /// A driver's state, or nil when unknown (stale drivers are returned until evicted).
    public func state(of id: DriverID) -> DriverState? {
        idMap.find(id.rawValue, ids: ids).map { state(row: Int($0)) }
    }

    /// Whether a driver's last fix is older than the staleness limit at `nowMs`.
    public func isStale(_ id: DriverID, nowMs: Int64) -> Bool {
        guard let row = idMap.find(id.rawValue, ids: ids) else { return true }
        return timestampMs[Int(row)] < nowMs - staleAfterMs
    }

    /// Removes a driver; returns whether it was present.
    @discardableResult
    public func remove(_ id: DriverID) -> Bool {
        guard let row = idMap.find(id.rawValue, ids: ids) else { return false }
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
        while scanned < maxRows && !ids.isEmpty {
            if evictCursor >= ids.count { evictCursor = 0; if scanned > 0 { break } }
            let r = evictCursor
            scanned += 1
            if timestampMs[r] < cutoff {
                removeRow(UInt32(r))   // the last row moves into r: look at r again
                evicted += 1
            } else {
                evictCursor += 1
            }
        }
        if evicted > 0 { shrinkIfSparse() }
        return evicted
    }
    var evictCursor = 0

    /// The positions of fresh drivers in `status`, in row order: one pass over three columns, no hash look-ups and
    /// no `DriverState` per row (per-zone supply counts for surge need only this; 1M rows take a few ms).
    public func positions(of status: DriverStatus, nowMs: Int64) -> [LatLng] {
        var out: [LatLng] = []
        forEachFreshRow(in: status, nowMs: nowMs) { r in
            out.append(LatLng(degrees: Double(latE7[r]) * 1e-7, Double(lngE7[r]) * 1e-7))
        }
        return out
    }

    /// The bucket keys (`scheme`'s cells: H3 cell ids with `H3CellScheme`) of fresh drivers in `status`, in row
    /// order: per-zone counts without a cell computation per driver.
    public func cellKeys(of status: DriverStatus, nowMs: Int64) -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(ids.count)
        forEachFreshRow(in: status, nowMs: nowMs) { out.append(cellKey[$0]) }
        return out
    }

    /// Calls `body` with every row in `status` whose fix is not stale at `nowMs`, in row order.
    @inline(__always)
    private func forEachFreshRow(in status: DriverStatus, nowMs: Int64, _ body: (Int) -> Void) {
        let cutoff = nowMs - staleAfterMs
        let wanted = status.rawValue
        for r in 0..<ids.count where self.status[r] == wanted && timestampMs[r] >= cutoff { body(r) }
    }

    /// Every driver's state, in row order (for snapshots and tests).
    public func allStates() -> [DriverState] { (0..<ids.count).map { state(row: $0) } }

    // MARK: - Rows

    @inline(__always)
    func state(row r: Int) -> DriverState {
        DriverState(id: DriverID(ids[r]), latE7: latE7[r], lngE7: lngE7[r], timestampMs: timestampMs[r],
                    speedCmPerSecond: speed[r], headingCentidegrees: heading[r], accuracyDecimetres: accuracy[r],
                    status: DriverStatus(rawValue: status[r]) ?? .offline)
    }

    func removeRow(_ row: UInt32) {
        let r = Int(row)
        unlink(row)
        idMap.remove(ids[r], ids: ids)
        let last = ids.count - 1
        if r != last {
            // Move the last row into the hole and repoint everything that named it.
            let lastRow = UInt32(last)
            unlink(lastRow)
            ids[r] = ids[last]; latE7[r] = latE7[last]; lngE7[r] = lngE7[last]
            timestampMs[r] = timestampMs[last]; speed[r] = speed[last]; heading[r] = heading[last]
            accuracy[r] = accuracy[last]; status[r] = status[last]; cellKey[r] = cellKey[last]
            idMap.repoint(ids[r], from: lastRow, to: row)
            link(row)
        }
        ids.removeLast(); latE7.removeLast(); lngE7.removeLast(); timestampMs.removeLast()
        speed.removeLast(); heading.removeLast(); accuracy.removeLast(); status.removeLast()
        cellKey.removeLast(); next.removeLast(); prev.removeLast()
    }

    /// Gives memory back once the fleet has shrunk to under a quarter of the columns' capacity.
    func shrinkIfSparse() {
        guard ids.capacity > 1024 && ids.count < ids.capacity / 4 else { return }
        ids = Array(ids); latE7 = Array(latE7); lngE7 = Array(lngE7); timestampMs = Array(timestampMs)
        speed = Array(speed); heading = Array(heading); accuracy = Array(accuracy); status = Array(status)
        cellKey = Array(cellKey); next = Array(next); prev = Array(prev)
        idMap.rebuild(ids: ids)
        buckets.shrinkIfSparse()
    }

    // MARK: - Bucket lists

    @inline(__always)
    func link(_ row: UInt32) {
        let r = Int(row)
        let key = cellKey[r]
        let head = buckets.pushFront(key, row: row) {
            let c = scheme.center(of: key)
            return (c.lat, c.lng, scheme.innerRadiusMeters(of: key))
        }
        prev[r] = Self.none
        next[r] = head
        if head != Self.none { prev[Int(head)] = row }
    }

    @inline(__always)
    func unlink(_ row: UInt32) {
        let r = Int(row)
        let p = prev[r], n = next[r]
        if n != Self.none { prev[Int(n)] = p }
        if p != Self.none {
            next[Int(p)] = n
            buckets.decrement(cellKey[r])
        } else {
            buckets.popFront(cellKey[r], newHead: n)
        }
        next[r] = Self.none; prev[r] = Self.none
    }
}

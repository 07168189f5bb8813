import FleetIndex
import HexGeo

/// The tracking hub's matching state: which subscriber slots see a moving driver, and this tick's hits per slot.
///
/// Subscribers are dense `Int32` slots, so the hot loop touches flat arrays, never subscriber objects (no
/// reference counting, no pointer chasing). Viewports sit in grid squares as inline rectangles, so the containment
/// test reads the entry it already has. A tick's hits form one linked list per slot in two parallel arrays:
///
/// ```
///  head[slot] ─▶ hit h ─ hitNext[h] ─▶ hit h' ─▶ … ─▶ -1      hitIndex[h] = the batch index of the driver
///  touched = the slots with a non-empty list, in the order they were first hit
/// ```
/// A driver matched through several subscriptions of one slot is listed once (`lastMark[slot]` holds the last
/// (tick, driver) mark). Loop-owned; every array keeps its capacity from tick to tick, so matching allocates
/// nothing in steady state.
struct TrackingIndex {
    /// A viewport held inline in a grid square's list.
    struct Rect {
        var minLatE7: Int32, minLngE7: Int32, maxLatE7: Int32, maxLngE7: Int32
        var slot: Int32

        init(_ b: TrackBBox, slot: Int32) {
            minLatE7 = b.minLatE7; minLngE7 = b.minLngE7; maxLatE7 = b.maxLatE7; maxLngE7 = b.maxLngE7
            self.slot = slot
        }

        @inline(__always)
        func contains(latE7: Int32, lngE7: Int32) -> Bool {
            latE7 >= minLatE7 && latE7 <= maxLatE7 && lngE7 >= minLngE7 && lngE7 <= maxLngE7
        }

        func isSame(_ b: TrackBBox, slot s: Int32) -> Bool {
            slot == s && minLatE7 == b.minLatE7 && minLngE7 == b.minLngE7 && maxLatE7 == b.maxLatE7
                && maxLngE7 == b.maxLngE7
        }
    }

    let gridSideE7: Int32
    let maxGridSquares: Int
    private(set) var driverSlots: [UInt64: [Int32]] = [:]
    private(set) var orderSlots: [UInt64: [Int32]] = [:]
    private var grid: [Int64: [Rect]] = [:]
    private var wide: [Rect] = []
    private var cellSlots: [H3Cell: [Int32]] = [:]
    private var cellsPerResolution = [Int](repeating: 0, count: H3.maxResolution + 1)
    /// The finest resolution with a cell subscription, -1 for none.
    private var finestCellResolution = -1

    private var lastMark: [Int] = []
    private(set) var head: [Int32] = []
    private var tail: [Int32] = []
    private(set) var hitIndex: [Int32] = []
    private(set) var hitNext: [Int32] = []
    /// Slots hit this tick, in the order of their first hit.
    private(set) var touched: [Int32] = []

    init(gridSideE7: Int32, maxGridSquares: Int) {
        self.gridSideE7 = gridSideE7
        self.maxGridSquares = maxGridSquares
    }

    // MARK: Slots

    /// Makes sure `slot` has per-slot state; a reused slot starts with no hits.
    mutating func prepare(slot: Int32) {
        let s = Int(slot)
        while lastMark.count <= s { lastMark.append(-1); head.append(-1); tail.append(-1) }
        lastMark[s] = -1
    }

    // MARK: Subscriptions

    mutating func addDriver(_ id: UInt64, slot: Int32) { driverSlots[id, default: []].append(slot) }
    mutating func removeDriver(_ id: UInt64, slot: Int32) { Self.remove(slot, from: &driverSlots, key: id) }
    mutating func addOrder(_ id: UInt64, slot: Int32) { orderSlots[id, default: []].append(slot) }
    mutating func removeOrder(_ id: UInt64, slot: Int32) { Self.remove(slot, from: &orderSlots, key: id) }

    /// Indexes a viewport under the grid squares it overlaps, or in the wide list when it spans too many.
    mutating func addBBox(_ b: TrackBBox, slot: Int32) {
        if let keys = b.gridKeys(sideE7: gridSideE7, limit: maxGridSquares) {
            for k in keys { grid[k, default: []].append(Rect(b, slot: slot)) }
        } else {
            wide.append(Rect(b, slot: slot))
        }
    }

    mutating func removeBBox(_ b: TrackBBox, slot: Int32) {
        if let keys = b.gridKeys(sideE7: gridSideE7, limit: maxGridSquares) {
            for k in keys {
                // Mutated in place through the dictionary (a `var` copy out and back would copy the whole list:
                // closing 100 whole-city viewers at once copied ~100 MB).
                guard let i = grid[k]?.firstIndex(where: { $0.isSame(b, slot: slot) }) else { continue }
                grid[k]!.remove(at: i)
                if grid[k]!.isEmpty { grid[k] = nil }
            }
        } else if let i = wide.firstIndex(where: { $0.isSame(b, slot: slot) }) {
            wide.remove(at: i)
        }
    }

    mutating func addCell(_ c: H3Cell, slot: Int32) {
        cellSlots[c, default: []].append(slot)
        cellsPerResolution[H3.getResolution(c)] += 1
        updateFinest()
    }

    mutating func removeCell(_ c: H3Cell, slot: Int32) {
        guard cellSlots[c] != nil else { return }
        Self.remove(slot, from: &cellSlots, key: c)
        cellsPerResolution[H3.getResolution(c)] -= 1
        updateFinest()
    }

    private mutating func updateFinest() {
        finestCellResolution = -1
        for r in stride(from: H3.maxResolution, through: 0, by: -1) where cellsPerResolution[r] > 0 {
            finestCellResolution = r
            break
        }
    }

    private static func remove<K: Hashable>(_ slot: Int32, from index: inout [K: [Int32]], key: K) {
        guard let i = index[key]?.firstIndex(of: slot) else { return }
        index[key]!.remove(at: i)
        if index[key]!.isEmpty { index[key] = nil }
    }

    // MARK: Matching

    /// Records that the driver at batch index `i` goes to `slot` (once per mark).
    @inline(__always)
    mutating func hit(_ slot: Int32, _ i: Int32, mark: Int) {
        let s = Int(slot)
        guard lastMark[s] != mark else { return }
        lastMark[s] = mark
        let h = Int32(truncatingIfNeeded: hitIndex.count)
        hitIndex.append(i)
        hitNext.append(-1)
        if head[s] < 0 {
            head[s] = h
            touched.append(slot)
        } else {
            hitNext[Int(tail[s])] = h
        }
        tail[s] = h
    }

    /// Matches one moved driver (batch index `i`) against driver, viewport and cell subscriptions; `orders` are the
    /// followed orders whose courier this driver is.
    mutating func match(_ s: DriverState, index i: Int32, mark: Int, orders: [UInt64]?) {
        if let slots = driverSlots[s.id.rawValue] { for slot in slots { hit(slot, i, mark: mark) } }
        if let orders {
            for o in orders { if let slots = orderSlots[o] { for slot in slots { hit(slot, i, mark: mark) } } }
        }
        if !grid.isEmpty,
           let rects = grid[TrackBBox.gridKey(latE7: s.latE7, lngE7: s.lngE7, sideE7: gridSideE7)] {
            for r in rects where r.contains(latE7: s.latE7, lngE7: s.lngE7) { hit(r.slot, i, mark: mark) }
        }
        for r in wide where r.contains(latE7: s.latE7, lngE7: s.lngE7) { hit(r.slot, i, mark: mark) }
        let finest = finestCellResolution
        if finest >= 0, let cell = try? H3.latLngToCell(s.position, resolution: finest) {
            for r in stride(from: finest, through: 0, by: -1) where cellsPerResolution[r] > 0 {
                guard let c = r == finest ? cell : try? H3.cellToParent(cell, resolution: r) else { continue }
                if let slots = cellSlots[c] { for slot in slots { hit(slot, i, mark: mark) } }
            }
        }
    }

    /// Forgets this tick's hits (keeps capacity).
    mutating func clearHits() {
        for slot in touched { head[Int(slot)] = -1; tail[Int(slot)] = -1 }
        touched.removeAll(keepingCapacity: true)
        hitIndex.removeAll(keepingCapacity: true)
        hitNext.removeAll(keepingCapacity: true)
    }
}

import FleetIndex
import HexGeo
import Vocabulary

/// Turns accepted pings into fence events: the transition logic of fixed fences, from each ping and the driver's
/// previous fix (which ingest hands over with it, read from the table row the upsert had in cache), and the dwell
/// timers, the only per-driver state the detector keeps.
///
/// ```
/// ping ─▶ square of (lat, lng) ─▶ squares[square] ── empty, same square as the previous fix, no dwell timers
///                                       │ some            anywhere, nothing detecting `outside` ─▶ done (one look-up)
///                                       ▼
///          candidates: fences of this square, and when the square changed, of the previous fix's square and
///          (fences detecting `cross` only) of the squares sampled along the segment; fences with this driver's
///          dwell timer; fences detecting `outside`
///                                       ▼
///          per candidate: box tests (prev, now, segment) ─▶ none hit: nothing can fire, next
///                         contains(prev), contains(now), dwell timer ─▶ enter / exit / cross / inside / outside
/// ```
/// Semantics, per (driver, fence), for the pings the fence watches (`drivers`, `statuses`):
/// - The confirmed state is inside or outside. With `dwell_s` = 0 it is where the last ping was; with
///   `dwell_s` > 0 it flips only once the pings have stayed on the other side for that long (measured on the
///   pings' own timestamps, first ping on the new side to the current one), and that ping fires `enter`/`exit`.
/// - `cross`: both this ping and the one before are outside (and the state is outside), and the straight
///   segment between them passes through the area.
/// - `inside`/`outside`: every ping inside/outside the area.
/// - The first ping of a driver the table had not held (after a restart, or after the stale sweep) sets the
///   state silently: no enter, exit or cross; nor does a fence registered while a driver is inside fire `enter`.
///
/// The previous fix is always known for a driver the table holds, so `cross` is exact for segments of any length
/// (the segment is sampled every quarter square, up to 4,096 samples). Loop-owned.
final class FenceDetector {
    struct PairState {
        var slot: Int32
        var generation: UInt32
        var inside: Bool
        /// Time of the first ping on the other side of the confirmed state, or nil.
        var pendingSinceMs: Int64?
    }

    /// A driver's dwell state: the dwell fences it is confirmed inside of or has a timer running for.
    struct DwellState {
        var timestampMs: Int64
        var pairs: [PairState]
    }

    let index: FenceIndex
    private(set) var dwelling: [DriverID: DwellState] = [:]
    /// A counting filter over `dwelling`'s ids: a zero means "no dwell state" without a hash look-up.
    private var dwellFilter: [UInt8]
    private let filterShift: UInt64
    /// Events of the pings processed so far, taken by the service after each window.
    var events: [FenceEvent] = []
    private var candidates: [Int32] = []

    init(index: FenceIndex, filterBits: Int = 16) {
        self.index = index
        dwellFilter = [UInt8](repeating: 0, count: 1 << filterBits)
        filterShift = UInt64(64 - filterBits)
    }

    @inline(__always)
    private func filterSlot(_ id: DriverID) -> Int { Int((id.rawValue &* 0x9E37_79B9_7F4A_7C15) >> filterShift) }

    /// Drivers with a dwell timer running or confirmed inside a dwell fence.
    var dwellingCount: Int { dwelling.count }

    /// Processes accepted pings in arrival order, each with where its driver was before.
    func process(_ states: UnsafeBufferPointer<DriverState>, previous: UnsafeBufferPointer<PreviousFix>, nowMs: Int64) {
        // Local copies: one retain per window, and no exclusivity check per read of the index's arrays.
        let squares = index.squares, grid = index.grid, boxes = index.boxes, crossing = index.crossSquares
        let everywhere = !index.outsideEverywhere.isEmpty
        for i in states.indices {
            let s = states[i], prev = previous[i]
            let square = grid.key(latE7: s.latE7, lngE7: s.lngE7)
            let here = squares.range(square)
            let moved = prev.isKnown && grid.key(latE7: prev.latE7, lngE7: prev.lngE7) != square
            if !moved && !everywhere && dwelling.isEmpty {
                if here.isEmpty { continue }
                // One square's list: no duplicates, and nothing fires unless a box holds an end or meets the segment.
                var involved = false
                for j in here {
                    let b = boxes[Int(squares.arena[j])]
                    if b.holds(latE7: s.latE7, lngE7: s.lngE7)
                        || (prev.isKnown && (b.holds(latE7: prev.latE7, lngE7: prev.lngE7)
                            || (b.detectsCross && b.meets(prev.latE7, prev.lngE7, s.latE7, s.lngE7)))) {
                        involved = true
                        break
                    }
                }
                if !involved { continue }
            }
            evaluate(s, previous: prev, square: square, nowMs: nowMs, squares: squares, crossing: crossing, boxes: boxes)
        }
    }

    /// Processes one accepted ping (`previous`: where the driver was, `.none` for a first sighting).
    func process(_ s: DriverState, previous: PreviousFix, nowMs: Int64) {
        withUnsafePointer(to: s) { sp in
            withUnsafePointer(to: previous) { pp in
                process(UnsafeBufferPointer(start: sp, count: 1), previous: UnsafeBufferPointer(start: pp, count: 1), nowMs: nowMs)
            }
        }
    }

    private func evaluate(_ s: DriverState, previous: PreviousFix, square: UInt64, nowMs: Int64, squares: FenceSquareMap,
                          crossing: FenceSquareMap, boxes: [FenceIndex.FenceBox]) {
        let first = !previous.isKnown
        var old: DwellState?
        if !dwelling.isEmpty && dwellFilter[filterSlot(s.id)] != 0, let d = dwelling.removeValue(forKey: s.id) {
            old = d
            untrackFilter(s.id)
        }
        index.beginRound()
        candidates.removeAll(keepingCapacity: true)
        for j in squares.range(square) where index.take(squares.arena[j]) { candidates.append(squares.arena[j]) }
        for slot in index.outsideEverywhere where index.take(slot) { candidates.append(slot) }
        if let old { for pair in old.pairs where index.take(pair.slot) { candidates.append(pair.slot) } }
        let previousSquare = first ? square : index.grid.key(latE7: previous.latE7, lngE7: previous.lngE7)
        if previousSquare != square {
            for j in squares.range(previousSquare) where index.take(squares.arena[j]) { candidates.append(squares.arena[j]) }
            if crossing.count > 0 {
                var last = square
                index.grid.forEachSquare(alongLatE7: previous.latE7, previous.lngE7, to: s.latE7, s.lngE7) { sq in
                    guard sq != last else { return }
                    last = sq
                    for j in crossing.range(sq) where index.take(crossing.arena[j]) { candidates.append(crossing.arena[j]) }
                }
            }
        }
        let cur = s.position
        let prevPoint = first ? nil : Optional(LatLng(degrees: Double(previous.latE7) / 1e7, Double(previous.lngE7) / 1e7))
        var pairs: [PairState] = []
        for slot in candidates {
            let b = boxes[Int(slot)]
            let pair = old?.pairs.first(where: { $0.slot == slot })
            let nearNow = b.holds(latE7: s.latE7, lngE7: s.lngE7)
            let nearBefore = !first && b.holds(latE7: previous.latE7, lngE7: previous.lngE7)
            let crossing = !first && b.detectsCross && b.meets(previous.latE7, previous.lngE7, s.latE7, s.lngE7)
            // Nothing can fire for a fence whose box holds neither end nor meets the segment, unless it reports
            // every ping (`outside`) or this driver has a dwell timer on it. A free or roaming slot has an empty box
            // and no detect.
            if !nearNow && !nearBefore && !crossing && !b.detectsOutside && pair == nil { continue }
            guard !b.detect.isEmpty else { continue }
            let h = index.hot[Int(slot)]
            let live = pair.map { $0.generation == h.generation } ?? true
            let expired = h.expiresAtMs <= nowMs
            guard !expired, index.watches(Int(slot), h, s.id, s.status) else {
                // Keep a timer of a fence this ping does not speak to (another status) as it was.
                if let pair, live, !expired { pairs.append(pair) }
                continue
            }
            let nowIn = nearNow && index.contains(Int(slot), cur, latE7: s.latE7, lngE7: s.lngE7)
            var wasIn: Bool?
            if let point = prevPoint { wasIn = nearBefore && index.contains(Int(slot), point, latE7: previous.latE7, lngE7: previous.lngE7) }
            var state: PairState
            if let pair, live {
                state = pair
            } else {
                // No timer: the confirmed state is where the previous fix was, or, for a first sighting, where
                // this ping is.
                state = PairState(slot: slot, generation: h.generation, inside: first ? nowIn : (wasIn ?? false),
                                  pendingSinceMs: nil)
            }
            if !first {
                if nowIn == state.inside {
                    state.pendingSinceMs = nil
                } else {
                    let since = state.pendingSinceMs ?? s.timestampMs
                    if s.timestampMs - since >= h.dwellMs {
                        state.inside = nowIn
                        state.pendingSinceMs = nil
                        emit(slot, h, nowIn ? .enter : .exit, s)
                    } else {
                        state.pendingSinceMs = since
                    }
                }
                if crossing, !nowIn, wasIn == false, !state.inside, state.pendingSinceMs == nil,
                   let a = prevPoint, index.segmentMeets(Int(slot), a, cur) {
                    emit(slot, h, .cross, s)
                }
            }
            emit(slot, h, nowIn ? .inside : .outside, s)
            if h.dwellMs > 0 && (state.inside || state.pendingSinceMs != nil) { pairs.append(state) }
        }
        if !pairs.isEmpty {
            dwelling[s.id] = DwellState(timestampMs: s.timestampMs, pairs: pairs)
            trackFilter(s.id)
        }
    }

    @inline(__always)
    private func emit(_ slot: Int32, _ h: FenceIndex.HotFence, _ kind: FenceEventKind, _ s: DriverState) {
        let wanted: FenceDetect
        switch kind {
        case .enter: wanted = .enter
        case .exit: wanted = .exit
        case .inside: wanted = .inside
        case .outside: wanted = .outside
        case .cross: wanted = .cross
        }
        guard h.detect.contains(wanted), let id = index.entry(slot)?.definition.id else { return }
        events.append(FenceEvent(fence: id, driver: s.id, kind: kind, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7))
    }

    private func trackFilter(_ id: DriverID) {
        let i = filterSlot(id)
        if dwellFilter[i] < UInt8.max { dwellFilter[i] += 1 }
    }

    private func untrackFilter(_ id: DriverID) {
        let i = filterSlot(id)
        // A saturated slot stays saturated: its true count is unknown, and a false "maybe" only costs a look-up.
        if dwellFilter[i] > 0 && dwellFilter[i] < UInt8.max { dwellFilter[i] -= 1 }
    }

    /// Forgets the dwell state of drivers whose last ping is older than `olderThanMs` (called from the tick, a
    /// slice at a time).
    func forgetStale(olderThanMs: Int64, max: Int) {
        var gone: [DriverID] = []
        for (id, t) in dwelling where t.timestampMs < olderThanMs {
            gone.append(id)
            if gone.count >= max { break }
        }
        for id in gone {
            dwelling.removeValue(forKey: id)
            untrackFilter(id)
        }
    }
}

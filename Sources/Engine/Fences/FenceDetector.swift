import FleetIndex
import HexGeo
import Vocabulary

/// Turns accepted pings into fence events: the transition logic of fixed fences, and the soft per-driver state it
/// needs (the last position of drivers near a fence, dwell timers).
///
/// ```
/// ping ─▶ square of (lat, lng) ─▶ squares[square]? ── none, and the driver not tracked ─▶ done (one hash look-up)
///                                       │ some
///                                       ▼
///          candidates: fences of this square, of the previous ping's square, of squares sampled along the
///          segment between them, fences with a dwell timer running, fences detecting `outside`
///                                       ▼
///          per candidate: contains(prev), contains(now), dwell timer ─▶ enter / exit / cross / inside / outside
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
/// Tracking: a driver whose ping lands in a listed square is remembered (position, time, dwell timers); one whose
/// ping lands in an unlisted square with no timer running is forgotten, since such a ping is at least the margin
/// away from every fence. So a cross is exact for ping-to-ping segments shorter than the margin (1 km by default);
/// a longer jump that starts away from every fence and passes through one without either end near it is not
/// seen. Loop-owned.
final class FenceDetector {
    struct PairState {
        var slot: Int32
        var generation: UInt32
        var inside: Bool
        /// Time of the first ping on the other side of the confirmed state, or nil.
        var pendingSinceMs: Int64?
    }

    struct Track {
        var latE7: Int32
        var lngE7: Int32
        var timestampMs: Int64
        var square: UInt64
        /// Dwell fences this driver is confirmed inside of or has a timer running for.
        var pairs: [PairState]
    }

    let index: FenceIndex
    private(set) var tracked: [DriverID: Track] = [:]
    /// A counting filter over tracked driver ids: a zero means "not tracked" without a hash look-up.
    private var trackedFilter: [UInt8]
    private let filterShift: UInt64
    /// Drivers the table took for the first time since they were last known (filled by ingest's first-sighting
    /// hook, consumed by the window that carries their ping).
    var firstSightings: Set<DriverID> = []
    /// Events of the pings processed so far, taken by the service after each window.
    var events: [FenceEvent] = []
    private var candidates: [Int32] = []

    init(index: FenceIndex, filterBits: Int = 20) {
        self.index = index
        trackedFilter = [UInt8](repeating: 0, count: 1 << filterBits)
        filterShift = UInt64(64 - filterBits)
    }

    @inline(__always)
    private func filterSlot(_ id: DriverID) -> Int { Int((id.rawValue &* 0x9E37_79B9_7F4A_7C15) >> filterShift) }

    /// Drivers currently tracked (near a fence or with a dwell timer).
    var trackedCount: Int { tracked.count }

    /// Processes accepted pings in arrival order.
    func process(_ states: UnsafeBufferPointer<DriverState>, nowMs: Int64) {
        for s in states { process(s, nowMs: nowMs) }
    }

    /// Processes one accepted ping.
    @inline(__always)
    func process(_ s: DriverState, nowMs: Int64) {
        let square = index.grid.key(latE7: s.latE7, lngE7: s.lngE7)
        let here = index.squares[square]
        if here == nil && index.outsideEverywhere.isEmpty && trackedFilter[filterSlot(s.id)] == 0
            && firstSightings.isEmpty { return }
        slowPath(s, square: square, here: here, nowMs: nowMs)
    }

    private func slowPath(_ s: DriverState, square: UInt64, here: FenceIndex.Square?, nowMs: Int64) {
        let first = !firstSightings.isEmpty && firstSightings.remove(s.id) != nil
        var prev: Track?
        if trackedFilter[filterSlot(s.id)] != 0, let t = tracked.removeValue(forKey: s.id) {
            prev = t
            untrackFilter(s.id)
        }
        if first { prev = nil }
        index.beginRound()
        candidates.removeAll(keepingCapacity: true)
        func add(_ list: [Int32]?) {
            guard let list else { return }
            for slot in list where index.take(slot) { candidates.append(slot) }
        }
        add(here?.fences)
        add(index.outsideEverywhere)
        if let p = prev {
            for pair in p.pairs where index.take(pair.slot) { candidates.append(pair.slot) }
            if p.square != square {
                index.grid.forEachSquare(alongLatE7: p.latE7, p.lngE7, to: s.latE7, s.lngE7) { sq in
                    add(index.squares[sq]?.fences)
                }
            }
        }
        let cur = s.position
        let prevPoint = prev.map { LatLng(degrees: Double($0.latE7) / 1e7, Double($0.lngE7) / 1e7) }
        var pairs: [PairState] = []
        for slot in candidates {
            guard let e = index.entry(slot), let shape = e.shape else { continue }
            let d = e.definition
            guard !d.isExpired(nowMs), d.watches(s.id, s.status) else {
                // Keep a timer of a fence this ping does not speak to (another status) as it was.
                if let old = prev?.pairs.first(where: { $0.slot == slot && $0.generation == e.generation }) {
                    if !d.isExpired(nowMs) { pairs.append(old) }
                }
                continue
            }
            let nowIn = e.mayContain(latE7: s.latE7, lngE7: s.lngE7) && shape.contains(cur)
            var wasIn: Bool?
            if let p = prev, let point = prevPoint { wasIn = e.mayContain(latE7: p.latE7, lngE7: p.lngE7) && shape.contains(point) }
            var state: PairState
            if let old = prev?.pairs.first(where: { $0.slot == slot && $0.generation == e.generation }) {
                state = old
            } else {
                // No timer: the confirmed state is where the previous ping was (an untracked driver was away
                // from every fence), or, for a first sighting, where this ping is.
                state = PairState(slot: slot, generation: e.generation, inside: first ? nowIn : (wasIn ?? false),
                                  pendingSinceMs: nil)
            }
            if !first {
                if nowIn == state.inside {
                    state.pendingSinceMs = nil
                } else {
                    let since = state.pendingSinceMs ?? s.timestampMs
                    if s.timestampMs - since >= d.dwellMs {
                        state.inside = nowIn
                        state.pendingSinceMs = nil
                        emit(d, nowIn ? .enter : .exit, s)
                    } else {
                        state.pendingSinceMs = since
                    }
                }
                if d.detect.contains(.cross), !nowIn, wasIn == false, !state.inside, state.pendingSinceMs == nil,
                   let a = prevPoint, shape.segmentIntersects(a, cur) {
                    emit(d, .cross, s)
                }
            }
            if nowIn { emit(d, .inside, s) } else { emit(d, .outside, s) }
            if d.dwellMs > 0 && (state.inside || state.pendingSinceMs != nil) { pairs.append(state) }
        }
        if here != nil || !pairs.isEmpty {
            tracked[s.id] = Track(latE7: s.latE7, lngE7: s.lngE7, timestampMs: s.timestampMs, square: square, pairs: pairs)
            trackFilter(s.id)
        }
    }

    @inline(__always)
    private func emit(_ d: FenceDefinition, _ kind: FenceEventKind, _ s: DriverState) {
        switch kind {
        case .enter: guard d.detect.contains(.enter) else { return }
        case .exit: guard d.detect.contains(.exit) else { return }
        case .inside: guard d.detect.contains(.inside) else { return }
        case .outside: guard d.detect.contains(.outside) else { return }
        case .cross: guard d.detect.contains(.cross) else { return }
        }
        events.append(FenceEvent(fence: d.id, driver: s.id, kind: kind, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7))
    }

    private func trackFilter(_ id: DriverID) {
        let i = filterSlot(id)
        if trackedFilter[i] < UInt8.max { trackedFilter[i] += 1 }
    }

    private func untrackFilter(_ id: DriverID) {
        let i = filterSlot(id)
        // A saturated slot stays saturated: its true count is unknown, and a false "maybe" only costs a look-up.
        if trackedFilter[i] > 0 && trackedFilter[i] < UInt8.max { trackedFilter[i] -= 1 }
    }

    /// Forgets drivers whose last ping is older than `olderThanMs` (called from the tick, a slice at a time).
    func forgetStale(olderThanMs: Int64, max: Int) {
        var gone: [DriverID] = []
        for (id, t) in tracked where t.timestampMs < olderThanMs {
            gone.append(id)
            if gone.count >= max { break }
        }
        for id in gone {
            tracked.removeValue(forKey: id)
            untrackFilter(id)
        }
    }
}

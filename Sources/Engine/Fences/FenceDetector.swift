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
///          (fences detecting `cross` only) of the squares the segment passes between them; fences with this
///          driver's dwell timer; fences detecting `outside`
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
/// (its squares are walked exactly, up to 4,096 of them). Owned by one thread at a time: the loop, or the fence
/// thread while a `FenceWorker` runs it.
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
    /// The H3 cells of the point being tested, for the cell sets (the detector's own: it may run on the fence worker's
    /// thread while the loop answers `containing` from the same index).
    private var pointCells = FenceIndex.PointCells()
    /// Some fence detects `cross` (else the squares between two fixes matter to none).
    private var crossDetected = false

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
    ///
    /// A ping of a known driver with no dwell state, while no fence detects `outside`, takes the fast path: its
    /// square's entries (and, when it changed square, the previous square's and, for `cross`, those of the squares
    /// between) decide it from their clipped boxes, interior flags and exact tests, provided every fence involved is
    /// plain (no dwell, no filter); otherwise, and for first sightings, the general `evaluate` decides it. Events are
    /// kept as slots while the batch runs and get their fences' ids at its end.
    func process(_ states: UnsafeBufferPointer<DriverState>, previous: UnsafeBufferPointer<PreviousFix>, nowMs: Int64) {
        // Local copies: one retain per window, and no exclusivity check per read of the index's arrays.
        let squares = index.squares, grid = index.grid, boxes = index.boxes, hot = index.hot
        let everywhere = !index.outsideEverywhere.isEmpty
        crossDetected = index.crossCount > 0
        let keys = squareKeys, walked = walkedKeys, walkedCounts = walkedKeyCounts
        let crossing = crossDetected
        var sink: UInt64 = 0
        squares.arena.withUnsafeBufferPointer { arena in
            var from = 0
            while from < states.count {
                // A slice of the batch at a time: its pings' square keys, then their buckets and runs loaded together
                // (independent loads, so their cache misses overlap), then the pings decided with all of it in cache.
                let to = min(states.count, from + Self.warmPings)
                for i in from..<to {
                    let s = states[i], prev = previous[i]
                    let now = grid.key(latE7: s.latE7, lngE7: s.lngE7)
                    let before = prev.isKnown ? grid.key(latE7: prev.latE7, lngE7: prev.lngE7) : now
                    keys[2 * (i - from)] = now
                    keys[2 * (i - from) + 1] = before
                    sink &+= squares.touchBucket(now) &+ squares.touchBucket(before)
                    // The squares the segment passes between its ends (for `cross`), listed once here so that their
                    // buckets and runs load with the rest of the slice instead of one miss after another later.
                    walkedCounts[i - from] = 0
                    if crossing && now != before && !Self.shareASide(now, before, columns: grid.columns) {
                        let base = (i - from) * Self.walkedPerPing
                        var n = 0
                        Self.forEachSquare(alongLatE7: prev.latE7, prev.lngE7, to: s.latE7, s.lngE7, sideE7: grid.sideE7,
                                           columns: grid.columns) { sq in
                            guard sq != now && sq != before else { return }
                            if n < Self.walkedPerPing { walked[base + n] = sq }
                            n += 1
                        }
                        // Too many to list: walked again when decided.
                        walkedCounts[i - from] = n <= Self.walkedPerPing ? Int32(n) : -1
                        for k in 0..<min(n, Self.walkedPerPing) { sink &+= squares.touchBucket(walked[base + k]) }
                    }
                }
                for k in 0..<(2 * (to - from)) { sink &+= squares.touchRun(keys[k]) }
                for i in 0..<(to - from) where walkedCounts[i] > 0 {
                    for k in 0..<Int(walkedCounts[i]) { sink &+= squares.touchRun(walked[i * Self.walkedPerPing + k]) }
                }
                for i in from..<to {
                    let s = states[i], prev = previous[i]
                    let square = keys[2 * (i - from)]
                    let here = squares.range(square)
                    guard prev.isKnown, !everywhere, dwelling.isEmpty || dwellFilter[filterSlot(s.id)] == 0 else {
                        evaluate(s, previous: prev, square: square, nowMs: nowMs, squares: squares, boxes: boxes, hot: hot)
                        continue
                    }
                    let previousSquare = keys[2 * (i - from) + 1]
                    let decided: Bool
                    if previousSquare == square {
                        if here.isEmpty { continue }
                        decided = decideInSquare(s, prev, arena, here, nowMs: nowMs)
                    } else {
                        let before = squares.range(previousSquare)
                        let walk = crossing && !Self.shareASide(square, previousSquare, columns: grid.columns)
                        if here.isEmpty && before.isEmpty && !walk { continue }
                        let listed = walkedCounts[i - from]
                        let between = UnsafeBufferPointer(rebasing: walked[((i - from) * Self.walkedPerPing)...].prefix(max(0, Int(listed))))
                        decided = decideMoved(s, prev, arena, here, before, walk: walk, between: listed >= 0 ? between : nil,
                                              squares: squares, nowMs: nowMs)
                    }
                    if !decided { evaluate(s, previous: prev, square: square, nowMs: nowMs, squares: squares, boxes: boxes, hot: hot) }
                }
                from = to
            }
        }
        warmSink &+= sink
        resolveFired()
    }

    /// Pings whose squares are loaded together before any is decided.
    static let warmPings = 32
    /// The square keys of the slice being decided: now and before, per ping.
    private let squareKeys = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 2 * FenceDetector.warmPings)
    /// Squares between a ping's two fixes listed per ping of the slice (at most this many; more are walked again).
    static let walkedPerPing = 8
    /// The slice's squares between, `walkedPerPing` a ping, and how many each ping has (-1: too many, walk again).
    private let walkedKeys = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: FenceDetector.walkedPerPing * FenceDetector.warmPings)
    private let walkedKeyCounts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: FenceDetector.warmPings)
    /// Keeps the warm-up loads alive (a value nobody reads).
    private var warmSink: UInt64 = 0

    deinit {
        squareKeys.deallocate()
        walkedKeys.deallocate()
        walkedKeyCounts.deallocate()
    }

    /// An event decided while a batch runs, its fence still a slot.
    private struct Fired {
        var slot: Int32
        var kind: FenceEventKind
        var driver: DriverID
        var timestampMs: Int64
        var latE7: Int32
        var lngE7: Int32
    }
    private var fired: [Fired] = []
    /// The fast path's working lists for one ping: fences holding the previous fix, fences holding this one, and the
    /// fences detecting `cross` whose box (within some square) meets the segment.
    private var heldBefore: [Held] = []
    private var heldNow: [Held] = []
    private var mayCross: [Held] = []

    /// A fence on the fast path's working lists: what firing it needs from its entry, so nothing else is read.
    private struct Held: Equatable {
        var slot: Int32
        var detect: FenceDetect
        var flags: UInt8

        init(_ e: SquareEntry) {
            slot = e.slot
            detect = e.detect
            flags = e.flags
        }

        /// The same fence (its entries in two squares differ only in box and flags of the square).
        static func == (a: Held, b: Held) -> Bool { a.slot == b.slot }
    }

    /// Turns the batch's fired slots into events (the fences' ids looked up once each event, after the batch).
    private func resolveFired() {
        guard !fired.isEmpty else { return }
        for f in fired {
            guard let id = index.id(f.slot) else { continue }
            events.append(FenceEvent(fence: id, driver: f.driver, kind: f.kind, timestampMs: f.timestampMs, latE7: f.latE7, lngE7: f.lngE7))
        }
        fired.removeAll(keepingCapacity: true)
    }

    /// The fast path for a ping in the square of the driver's previous fix: false (having fired nothing) when a
    /// fence involved is not plain.
    private func decideInSquare(_ s: DriverState, _ prev: PreviousFix, _ arena: UnsafeBufferPointer<SquareEntry>,
                                _ listed: Range<Int>, nowMs: Int64) -> Bool {
        let mark = fired.count
        for j in listed {
            let e = arena[j]
            let holdsNow = e.holds(latE7: s.latE7, lngE7: s.lngE7)
            let holdsBefore = e.holds(latE7: prev.latE7, lngE7: prev.lngE7)
            let crossable = e.detectsCross && e.meets(prev.latE7, prev.lngE7, s.latE7, s.lngE7)
            guard holdsNow || holdsBefore || crossable else { continue }
            guard e.isPlain else {
                fired.removeSubrange(mark...)
                return false
            }
            let nowIn = holdsNow && index.holds(e, latE7: s.latE7, lngE7: s.lngE7, s.position, cells: &pointCells)
            let wasIn = holdsBefore && index.holds(e, latE7: prev.latE7, lngE7: prev.lngE7, prev.position, cells: &pointCells)
            let fence = Held(e)
            if nowIn != wasIn { fire(fence, nowIn ? .enter : .exit, s, nowMs: nowMs) }
            if crossable && !nowIn && !wasIn && index.segmentMeets(Int(e.slot), prev.position, s.position) {
                fire(fence, .cross, s, nowMs: nowMs)
            }
            if nowIn { fire(fence, .inside, s, nowMs: nowMs) }
        }
        return true
    }

    /// The fast path for a ping in another square than the driver's previous fix (`walk`: also the squares the
    /// segment passes between them, for `cross`): false (having fired nothing) when a fence involved is not plain.
    private func decideMoved(_ s: DriverState, _ prev: PreviousFix, _ arena: UnsafeBufferPointer<SquareEntry>,
                             _ here: Range<Int>, _ before: Range<Int>, walk: Bool, between: UnsafeBufferPointer<UInt64>?,
                             squares: FenceSquareMap, nowMs: Int64) -> Bool {
        let mark = fired.count
        heldBefore.removeAll(keepingCapacity: true)
        heldNow.removeAll(keepingCapacity: true)
        mayCross.removeAll(keepingCapacity: true)
        let lat = s.latE7, lng = s.lngE7, pLat = prev.latE7, pLng = prev.lngE7
        let crossing = crossDetected
        for j in before {
            let e = arena[j]
            let holds = e.holds(latE7: pLat, lngE7: pLng)
            let crossable = crossing && e.detectsCross && e.meets(pLat, pLng, lat, lng)
            guard holds || crossable else { continue }
            guard e.isPlain else { return false }
            if holds && index.holds(e, latE7: pLat, lngE7: pLng, prev.position, cells: &pointCells) {
                heldBefore.append(Held(e))
            } else if crossable {
                mayCross.append(Held(e))
            }
        }
        for j in here {
            let e = arena[j]
            let holds = e.holds(latE7: lat, lngE7: lng)
            let crossable = crossing && e.detectsCross && e.meets(pLat, pLng, lat, lng)
            guard holds || crossable else { continue }
            guard e.isPlain else {
                fired.removeSubrange(mark...)
                return false
            }
            if holds && index.holds(e, latE7: lat, lngE7: lng, s.position, cells: &pointCells) {
                let fence = Held(e)
                heldNow.append(fence)
                if !heldBefore.contains(fence) { fire(fence, .enter, s, nowMs: nowMs) }
                fire(fence, .inside, s, nowMs: nowMs)
            } else if crossable && !mayCross.contains(Held(e)) {
                mayCross.append(Held(e))
            }
        }
        for fence in heldBefore where !heldNow.contains(fence) {
            fire(fence, .exit, s, nowMs: nowMs)
        }
        guard crossing else { return true }
        if walk {
            let previousSquare = index.grid.key(latE7: pLat, lngE7: pLng)
            let square = index.grid.key(latE7: lat, lngE7: lng)
            var plain = true
            func visit(_ sq: UInt64) {
                guard plain, sq != square && sq != previousSquare else { return }
                for j in squares.range(sq) {
                    let e = arena[j]
                    guard e.detectsCross && e.meets(pLat, pLng, lat, lng) else { continue }
                    guard e.isPlain else {
                        plain = false
                        return
                    }
                    if !mayCross.contains(Held(e)) { mayCross.append(Held(e)) }
                }
            }
            if let between {
                for sq in between { visit(sq) }
            } else {
                Self.forEachSquare(alongLatE7: pLat, pLng, to: lat, lng, sideE7: index.grid.sideE7, columns: index.grid.columns) { visit($0) }
            }
            guard plain else {
                fired.removeSubrange(mark...)
                return false
            }
        }
        for fence in mayCross where !heldBefore.contains(fence) && !heldNow.contains(fence) {
            if index.segmentMeets(Int(fence.slot), prev.position, s.position) {
                fire(fence, .cross, s, nowMs: nowMs)
            }
        }
        return true
    }

    /// Records `kind` for `fence` when it detects it and has not expired (its expiry read only if it has one).
    @inline(__always)
    private func fire(_ fence: Held, _ kind: FenceEventKind, _ s: DriverState, nowMs: Int64) {
        guard fence.detect.contains(Self.flag(kind)),
              fence.flags & SquareEntry.expires == 0 || index.hot[Int(fence.slot)].expiresAtMs > nowMs else { return }
        fired.append(Fired(slot: fence.slot, kind: kind, driver: s.id, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7))
    }

    /// The `detect` flag of an event kind.
    @inline(__always)
    static func flag(_ kind: FenceEventKind) -> FenceDetect {
        switch kind {
        case .enter: .enter
        case .exit: .exit
        case .inside: .inside
        case .outside: .outside
        case .cross: .cross
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
                          boxes: [FenceIndex.FenceBox], hot: [FenceIndex.HotFence]) {
        let first = !previous.isKnown
        var old: DwellState?
        if !dwelling.isEmpty && dwellFilter[filterSlot(s.id)] != 0, let d = dwelling.removeValue(forKey: s.id) {
            old = d
            untrackFilter(s.id)
        }
        index.beginRound()
        candidates.removeAll(keepingCapacity: true)
        // A listed fence whose box holds neither fix nor (detecting `cross`) meets the segment cannot fire, unless it
        // reports every ping (those are in `outsideEverywhere`) or this driver has a dwell timer on it (taken from
        // `old`): test the box before taking it, so most listed fences cost four compares and no bookkeeping.
        let lat = s.latE7, lng = s.lngE7, pLat = previous.latE7, pLng = previous.lngE7
        @inline(__always) func involved(_ slot: Int32) -> Bool {
            let b = boxes[Int(slot)]
            return b.holds(latE7: lat, lngE7: lng)
                || (!first && (b.holds(latE7: pLat, lngE7: pLng) || (b.detectsCross && b.meets(pLat, pLng, lat, lng))))
        }
        for j in squares.range(square) {
            let slot = squares.arena[j].slot
            if involved(slot) && index.take(slot) { candidates.append(slot) }
        }
        for slot in index.outsideEverywhere where index.take(slot) { candidates.append(slot) }
        if let old { for pair in old.pairs where index.take(pair.slot) { candidates.append(pair.slot) } }
        let previousSquare = first ? square : index.grid.key(latE7: pLat, lngE7: pLng)
        if previousSquare != square {
            for j in squares.range(previousSquare) {
                let slot = squares.arena[j].slot
                if involved(slot) && index.take(slot) { candidates.append(slot) }
            }
            // The squares the segment passes between them: a fence it passes through touches one of them. Two squares
            // sharing a side hold the whole segment: nothing between.
            if crossDetected && !Self.shareASide(square, previousSquare, columns: index.grid.columns) {
                Self.forEachSquare(alongLatE7: pLat, pLng, to: lat, lng, sideE7: index.grid.sideE7, columns: index.grid.columns) { sq in
                    guard sq != square && sq != previousSquare else { return }
                    for j in squares.range(sq) {
                        let slot = squares.arena[j].slot
                        if boxes[Int(slot)].detectsCross && involved(slot) && index.take(slot) { candidates.append(slot) }
                    }
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
            let h = hot[Int(slot)]
            let live = pair.map { $0.generation == h.generation } ?? true
            let expired = h.expiresAtMs <= nowMs
            guard !expired, index.watches(Int(slot), h, s.id, s.status) else {
                // Keep a timer of a fence this ping does not speak to (another status) as it was.
                if let pair, live, !expired { pairs.append(pair) }
                continue
            }
            // The box tests are done: a circle is its planar disc, other shapes are asked.
            let nowIn = nearNow && (h.disc?.contains(cur) ?? index.shapeContains(Int(slot), cur, cells: &pointCells))
            var wasIn: Bool?
            if let point = prevPoint { wasIn = nearBefore && (h.disc?.contains(point) ?? index.shapeContains(Int(slot), point, cells: &pointCells)) }
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

    /// Whether two grid squares (row << 32 | column) share a side, the columns wrapping around the antimeridian.
    @inline(__always)
    static func shareASide(_ a: UInt64, _ b: UInt64, columns: Int64) -> Bool {
        let rowA = Int64(a >> 32), rowB = Int64(b >> 32)
        let colA = Int64(a & 0xFFFF_FFFF), colB = Int64(b & 0xFFFF_FFFF)
        if colA == colB { return abs(rowA - rowB) == 1 }
        guard rowA == rowB else { return false }
        let d = abs(colA - colB)
        return d == 1 || d == columns - 1
    }

    /// The squares (row << 32 | column) the straight segment a→b (degrees × 1e7, the short way across the
    /// antimeridian) passes through, each once, walked exactly from a's square to b's (Amanatides and Woo's grid
    /// traversal); where it runs through a corner (within rounding), the squares on both sides of it too. At most
    /// 4,096 squares: a longer segment is cut there.
    static func forEachSquare(alongLatE7 aLat: Int32, _ aLng: Int32, to bLat: Int32, _ bLng: Int32, sideE7: Int64, columns: Int64,
                              _ body: (UInt64) -> Void) {
        let dLat = Int64(bLat) - Int64(aLat)
        var dLng = Int64(bLng) - Int64(aLng)
        if dLng > 1_800_000_000 { dLng -= 3_600_000_000 } else if dLng < -1_800_000_000 { dLng += 3_600_000_000 }
        // Rows and (unwrapped) columns as in `FenceGrid.key`, on coordinates shifted to be non-negative at a.
        let y0 = Int64(aLat) + 900_000_000, x0 = Int64(aLng) + 1_800_000_000
        var row = y0 / sideE7, col = x0 / sideE7
        let lastRow = (y0 + dLat) / sideE7
        let lastCol = (x0 + dLng) >= 0 ? (x0 + dLng) / sideE7 : -((-(x0 + dLng) + sideE7 - 1) / sideE7)
        let stepRow: Int64 = dLat > 0 ? 1 : -1, stepCol: Int64 = dLng > 0 ? 1 : -1
        @inline(__always) func visit(_ r: Int64, _ c: Int64) {
            guard r >= 0, r * sideE7 <= 1_800_000_000 else { return }
            body(UInt64(r) << 32 | UInt64((c % columns + columns) % columns))
        }
        // Parameter t in [0, 1] along the segment at which it reaches the next row / column boundary.
        let side = Double(sideE7)
        let deltaRow = dLat == 0 ? Double.infinity : side / Double(abs(dLat))
        let deltaCol = dLng == 0 ? Double.infinity : side / Double(abs(dLng))
        var nextRow = dLat == 0 ? Double.infinity
            : Double(dLat > 0 ? (row + 1) * sideE7 - y0 : y0 - row * sideE7) / Double(abs(dLat))
        var nextCol = dLng == 0 ? Double.infinity
            : Double(dLng > 0 ? (col + 1) * sideE7 - x0 : x0 - col * sideE7) / Double(abs(dLng))
        // A boundary exactly at a (moving down or left) is crossed at once: a is on the row/column's lower edge.
        if dLat < 0 && y0 == row * sideE7 { nextRow = 0 }
        if dLng < 0 && x0 == col * sideE7 { nextCol = 0 }
        visit(row, col)
        var visited = 1
        let epsilon = 1e-9
        while (row != lastRow || col != lastCol) && visited < 4_096 {
            if abs(nextRow - nextCol) <= epsilon {
                // Through a corner (or close enough that rounding could tell either way): both sides, then diagonally.
                if nextRow <= 1 + epsilon && nextCol <= 1 + epsilon {
                    visit(row + stepRow, col)
                    visit(row, col + stepCol)
                    row += stepRow
                    col += stepCol
                    nextRow += deltaRow
                    nextCol += deltaCol
                    visited += 2
                } else { break }
            } else if nextRow < nextCol {
                guard nextRow <= 1 + epsilon else { break }
                row += stepRow
                nextRow += deltaRow
            } else {
                guard nextCol <= 1 + epsilon else { break }
                col += stepCol
                nextCol += deltaCol
            }
            visit(row, col)
            visited += 1
        }
    }

    @inline(__always)
    private func emit(_ slot: Int32, _ h: FenceIndex.HotFence, _ kind: FenceEventKind, _ s: DriverState) {
        guard h.detect.contains(Self.flag(kind)) else { return }
        fired.append(Fired(slot: slot, kind: kind, driver: s.id, timestampMs: s.timestampMs, latE7: s.latE7, lngE7: s.lngE7))
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

extension PreviousFix {
    /// The fix as a point (as `DriverState.position` converts its own).
    @inline(__always)
    var position: LatLng { LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7) }
}

/// When the tracking hub fans out: one fan-out at a time, fan-outs asked for by fixes starting at least
/// `intervalNs` apart, and a request that comes while one is sending kept for right after it.
///
/// ```
///                  request, interval passed                 wake-up
///        ┌──────────────────────────────────▶ startingNextIteration ──────▶ idle, then start (or nothing to send)
///        │                                            ▲
///      idle ──started──▶ sending ──request──▶ sendingThenNext
///      ▲ │ ▲               │                          │
///      │ │ └───finished────┘                          └──finished──▶ startingNextIteration
///      │ │ request, too soon: the hub arms its timer
///      │ ▼
///   waitingForInterval ──timer fired──▶ idle (and the hub requests again)
/// ```
/// Pure logic: the hub reads the clock, arms the timer and sends the loop wake-ups this asks for, and tells it what
/// happened. A request is a switch on one byte, since every accepted fix makes one. Loop-owned.
struct FanoutSchedule {
    enum Phase: Equatable {
        /// Nothing sending, nothing owed.
        case idle
        /// A fan-out was asked for too soon after the last one started: the hub's one-shot timer is armed for the
        /// rest of the interval.
        case waitingForInterval
        /// A fan-out starts on the next loop iteration (the hub sent its wake-up).
        case startingNextIteration
        /// A fan-out is sending, slice by slice.
        case sending
        /// A fan-out is sending and another was asked for meanwhile: it starts on the iteration after it ends.
        case sendingThenNext
    }

    /// Where a requested fan-out goes (`place(nowNs:)`).
    enum Placement: Equatable {
        /// On the next loop iteration: the hub sends its wake-up.
        case nextIteration
        /// After this many ms (at least 1): the hub arms its timer and says so with `timerArmed()`.
        case afterMs(UInt64)
    }

    /// What a loop wake-up is for (`wakeupArrived()`).
    enum Continuation: Equatable {
        /// The next slice of the fan-out that is sending.
        case nextSlice
        /// A new fan-out (the phase is `idle` again: the hub starts one, if there is anything to send).
        case newFanout
        /// Nothing is owed.
        case nothing
    }

    /// Shortest time between the starts of two fan-outs that fixes ask for.
    let intervalNs: UInt64
    private(set) var phase = Phase.idle
    /// When the last fan-out started (`Loop.nanoseconds`).
    private var lastStartNs: UInt64 = 0

    init(intervalNs: UInt64) {
        self.intervalNs = intervalNs
    }

    /// A fan-out is sending: subscribers that close now keep their slots until it ends.
    var isSending: Bool { phase == .sending || phase == .sendingThenNext }

    /// Asks for a fan-out (a fix arrived, the engine ticked, the interval timer fired). While one is sending, the
    /// next is owed for right after it; while one is owed or its interval is waited out, nothing changes. True when
    /// nothing was scheduled: the caller starts a fan-out now (`started(atNs:)`) or places one (`place(nowNs:)`).
    @inline(__always)
    mutating func request() -> Bool {
        // Two compares rather than a switch, which compiled to a jump table: every accepted fix comes through here.
        if phase == .idle { return true }
        if phase == .sending { phase = .sendingThenNext }
        return false
    }

    /// Places a fan-out `request()` found unscheduled: on the next loop iteration when the last one started at
    /// least `intervalNs` ago (the leading edge: a quiet hub sends at once), else when that time is up.
    mutating func place(nowNs: UInt64) -> Placement {
        assert(phase == .idle, "place a fan-out only when request() found none scheduled")
        if nowNs &- lastStartNs >= intervalNs {
            phase = .startingNextIteration
            return .nextIteration
        }
        return .afterMs(max(1, (lastStartNs &+ intervalNs &- nowNs + 999_999) / 1_000_000))
    }

    /// The hub armed its timer for an `afterMs` placement (without a timer the phase stays `idle`, and the engine's
    /// tick starts the fan-out).
    mutating func timerArmed() {
        assert(phase == .idle, "the timer is armed only for a placement made when idle")
        phase = .waitingForInterval
    }

    /// The interval timer fired: nothing is scheduled until the hub requests again.
    mutating func timerFired() {
        if phase == .waitingForInterval { phase = .idle }
    }

    /// A loop wake-up arrived: the next slice, a new fan-out, or nothing.
    mutating func wakeupArrived() -> Continuation {
        switch phase {
        case .sending, .sendingThenNext: return .nextSlice
        case .startingNextIteration: phase = .idle; return .newFanout
        case .idle, .waitingForInterval: return .nothing
        }
    }

    /// A fan-out started sending at `atNs` (`Loop.nanoseconds`); the next one a fix asks for waits `intervalNs`
    /// from then.
    mutating func started(atNs: UInt64) {
        assert(phase == .idle, "a fan-out starts only when none is sending or owed")
        phase = .sending
        lastStartNs = atNs
    }

    /// The fan-out sent its last slice. True when another was asked for meanwhile: the hub sends a wake-up, and it
    /// starts on the next loop iteration.
    mutating func finished() -> Bool {
        assert(isSending, "only a sending fan-out finishes")
        if phase == .sendingThenNext {
            phase = .startingNextIteration
            return true
        }
        phase = .idle
        return false
    }
}

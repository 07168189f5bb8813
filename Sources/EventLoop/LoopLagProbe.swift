import CLibUV

/// Measures loop lag: a repeating timer that compares when it should have fired with when it did.
///
/// A healthy loop shows lag near 0 ms; a callback that blocks the loop shows up as lag equal to the time it
/// blocked. The Engine reads ``lastLagNs`` and ``takeMaxLagNs()`` for `hexfleet_loop_lag_seconds`.
/// The probe's timer does not keep the loop alive.
public final class LoopLagProbe {
    /// The probe interval in milliseconds.
    public let intervalMs: UInt64
    private let timer: Timer
    private var expectedNs: UInt64 = 0
    /// The lag of the most recent tick, in nanoseconds.
    public private(set) var lastLagNs: UInt64 = 0
    /// How many ticks were measured.
    public private(set) var samples: UInt64 = 0
    private var maxLagNs: UInt64 = 0

    init(loop: Loop, intervalMs: UInt64) throws(UVError) {
        self.intervalMs = max(intervalMs, 1)
        timer = try Timer(loop: loop)
        timer.keepsLoopAlive = false
        expectedNs = Loop.nanoseconds + self.intervalMs * 1_000_000
        let interval = self.intervalMs
        try timer.start(afterMs: interval, repeatMs: interval) { [weak self] in self?.tick() }
    }

    private func tick() {
        let nowNs = Loop.nanoseconds
        // A timer fires up to 1 ms early by the loop's millisecond clock; count only lateness.
        let lag = nowNs > expectedNs ? nowNs - expectedNs : 0
        lastLagNs = lag
        maxLagNs = max(maxLagNs, lag)
        samples &+= 1
        expectedNs = nowNs + intervalMs * 1_000_000
    }

    /// The largest lag since the previous call, in nanoseconds; resets the maximum.
    public func takeMaxLagNs() -> UInt64 {
        defer { maxLagNs = 0 }
        return maxLagNs
    }

    /// The lag of the most recent tick in seconds, for a gauge.
    public var lastLagSeconds: Double { Double(lastLagNs) / 1e9 }

    /// Stops the probe and closes its timer.
    public func stop() { timer.close() }
}

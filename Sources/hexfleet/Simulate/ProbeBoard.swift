import Histogram
import Foundation
import Synchronization

/// One ping whose arrival in the index the prober times.
struct Probe: Sendable {
    var driverID: UInt64
    var timestampMs: Int64
    var sentNanos: UInt64
}

/// The hand-off between the sender and the prober thread: one probe at a time, results in a histogram.
final class ProbeBoard: Sendable {
    private struct State {
        var pending: Probe?
        var histogram = LatencyHistogram.make()
        var lost = 0
        var done = false
    }
    private let state = Mutex(State())

    /// Offers a probe; false when the prober is still busy with the previous one.
    func offer(_ p: Probe) -> Bool {
        state.withLock { s in
            guard s.pending == nil else { return false }
            s.pending = p
            return true
        }
    }

    func finish() { state.withLock { $0.done = true } }
    func histogram() -> Histogram<UInt64> { state.withLock { $0.histogram } }
    func lost() -> Int { state.withLock { $0.lost } }

    /// The prober's loop: for each probe, polls the driver until the index shows the probe's timestamp (2 s limit).
    func serve(_ client: SimHTTPClient) {
        while true {
            let (probe, done) = state.withLock { ($0.pending, $0.done) }
            if done { return }
            guard let probe else { usleep(1_000); continue }
            var seen = false
            let deadline = probe.sentNanos + 2_000_000_000
            while OnlineSimulation.monoNanos < deadline {
                if let r = try? client.request("GET", "/v1/drivers/\(probe.driverID)"), r.status == 200,
                   let ts = (r.object?["ts"] as? NSNumber)?.int64Value, ts >= probe.timestampMs {
                    seen = true
                    break
                }
                if state.withLock({ $0.done }) { break }
            }
            let micros = (OnlineSimulation.monoNanos - probe.sentNanos) / 1_000
            state.withLock { s in
                if seen { _ = s.histogram.record(micros) } else { s.lost += 1 }
                s.pending = nil
            }
        }
    }
}

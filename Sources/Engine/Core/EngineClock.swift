import EventLoop
import Foundation

/// Unix time in milliseconds from the loop's cached clock: one read per loop iteration, re-anchored to the wall
/// clock now and then (`sync`). Every service reads time through it, so a request, a tick and a ping handled in
/// one iteration agree on "now". Loop-owned.
final class EngineClock {
    private let loop: Loop
    private var offsetMs: Int64 = 0

    init(loop: Loop) {
        self.loop = loop
        sync()
    }

    /// Now, in milliseconds since the Unix epoch.
    var nowMs: Int64 { Int64(loop.now) &+ offsetMs }

    /// Re-anchors the loop's monotonic clock to the wall clock.
    func sync() {
        loop.updateTime()
        offsetMs = Int64((Date().timeIntervalSince1970 * 1000).rounded()) - Int64(loop.now)
    }
}

import EventLoop
import Foundation
import Synchronization

/// Runs `body` on a new thread (a blocking client for a loop running on the test's thread).
func onThread(_ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.start()
}

/// A watchdog: stops the loop after `ms` so a failing test ends instead of hanging.
@discardableResult
func watchdog(_ loop: Loop, ms: UInt64 = 10_000) throws -> EventLoop.Timer {
    let timer = try EventLoop.Timer(loop: loop)
    timer.keepsLoopAlive = false
    try timer.start(afterMs: ms) { loop.shutdown() }
    return timer
}

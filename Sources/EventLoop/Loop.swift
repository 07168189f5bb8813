import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// One libuv loop (`uv_loop_t`), run on the thread that calls ``run()``.
///
/// Loop-owned types are not `Sendable`: the compiler keeps them on one thread. Cross-thread entry goes through
/// ``AsyncWakeup`` senders and ``WorkQueue`` completions. ``shutdown()`` closes every handle and runs until
/// nothing is left, so a test or `serve` ends with no handle and no owner leaked.
public final class Loop {
    /// The underlying libuv loop.
    public let raw: UnsafeMutablePointer<uv_loop_t>
    private var ownerThread: pthread_t
    private var closed = false

    /// A loop-wide read buffer lent to every TCP read: libuv calls alloc, read and the read callback back to back,
    /// so one slab serves all connections without an allocation per read.
    let readSlab: UnsafeMutableRawBufferPointer
    /// Write requests returned after their callback, reused by the next write that fits (see ``TCPConnection``).
    var writePool: [WriteRequest] = []

    /// The loop-lag probe, once ``startLagProbe(intervalMs:)`` ran.
    public private(set) var lagProbe: LoopLagProbe?

    /// Creates and initializes a loop. The creating thread counts as the loop thread until ``run()`` is called.
    public init() throws(UVError) {
        raw = .allocate(capacity: 1)
        let rc = uv_loop_init(raw)
        if rc < 0 {
            raw.deallocate()
            throw UVError(code: rc, operation: "uv_loop_init")
        }
        ownerThread = pthread_self()
        readSlab = .allocate(byteCount: 64 << 10, alignment: 16)
        // A peer that closes while we write must cost an EPIPE on that connection, not the process: libuv
        // leaves SIGPIPE at its default (terminate), so every process that runs a loop ignores it.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        if !closed {
            // Close whatever is left so libuv can release the loop; owners are freed by their close callbacks.
            closeAllHandles()
            _ = uv_run(raw, UV_RUN_DEFAULT)
            _ = uv_loop_close(raw)
        }
        raw.deallocate()
        readSlab.deallocate()
        for request in writePool { request.free() }
    }

    /// Runs the loop on the calling thread until no active, referenced handle or request remains, or ``stop()``.
    public func run() {
        ownerThread = pthread_self()
        runDepth += 1
        uv_run(raw, UV_RUN_DEFAULT)
        runDepth -= 1
    }

    /// Runs one iteration without blocking (`UV_RUN_NOWAIT`); returns whether anything is still alive.
    @discardableResult
    public func runOnce() -> Bool {
        ownerThread = pthread_self()
        runDepth += 1
        defer { runDepth -= 1 }
        return uv_run(raw, UV_RUN_NOWAIT) != 0
    }

    /// Makes ``run()`` return after the current iteration (`uv_stop`). Loop thread only.
    public func stop() {
        assertOnLoop()
        uv_stop(raw)
    }

    /// Whether the loop has active, referenced handles or requests.
    public var isAlive: Bool { uv_loop_alive(raw) != 0 }

    /// The loop's cached clock in milliseconds (`uv_now`), updated once per iteration.
    public var now: UInt64 { uv_now(raw) }

    /// Refreshes ``now`` from the system clock (`uv_update_time`).
    public func updateTime() { uv_update_time(raw) }

    /// A monotonic clock in nanoseconds (`uv_hrtime`), for measurements.
    public static var nanoseconds: UInt64 { uv_hrtime() }

    /// Traps in debug builds when called off the loop thread; free in release builds.
    @inline(__always)
    public func assertOnLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(pthread_equal(ownerThread, pthread_self()) != 0, "called off the loop thread", file: file, line: line)
    }

    /// Whether the caller runs on the loop thread.
    public var isOnLoop: Bool { pthread_equal(ownerThread, pthread_self()) != 0 }

    /// Starts a repeating timer that measures loop lag (see ``LoopLagProbe``); it does not keep the loop alive.
    @discardableResult
    public func startLagProbe(intervalMs: UInt64 = 100) throws(UVError) -> LoopLagProbe {
        if let lagProbe { return lagProbe }
        let probe = try LoopLagProbe(loop: self, intervalMs: intervalMs)
        lagProbe = probe
        return probe
    }

    /// Closes every handle on the loop (`uv_walk` + `uv_close`) and runs until the loop is empty, so every owner
    /// is released. Safe to call from inside a callback: the handles are closed and the running ``run()`` delivers
    /// their close callbacks, then returns once nothing is left (pending work-queue jobs finish first).
    public func shutdown() {
        assertOnLoop()
        closeAllHandles()
        lagProbe = nil
        if isRunning {
            // Inside a callback: uv_run cannot nest; the close callbacks run in the current run's next phase.
            return
        }
        _ = uv_run(raw, UV_RUN_DEFAULT)
    }

    /// Closes the loop itself after ``shutdown()``; returns `EBUSY` as an error if something is still open.
    public func close() throws(UVError) {
        shutdown()
        try UVError.check(uv_loop_close(raw), "uv_loop_close")
        closed = true
    }

    /// Nesting depth of `uv_run` calls made through this wrapper; > 0 while a callback runs.
    private var runDepth = 0
    private var isRunning: Bool { runDepth > 0 }

    private func closeAllHandles() {
        uv_walk(raw, { handle, _ in
            guard let handle, uv_is_closing(handle) == 0 else { return }
            if let data = handle.pointee.data {
                Unmanaged<LoopHandle>.fromOpaque(data).takeUnretainedValue().close()
            } else {
                uv_close(handle, nil)   // not ours (none expected); close it so the loop can end
            }
        }, nil)
    }
}

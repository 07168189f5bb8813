import CLibUV

/// A libuv timer (`uv_timer_t`): one-shot or repeating, in loop milliseconds.
///
/// Named like Foundation's `Timer`; in a file that imports both, write `EventLoop.Timer`.
public final class Timer: LoopHandle {
    private var callback: (() -> Void)?

    /// Creates a stopped timer on `loop`.
    public init(loop: Loop) throws(UVError) {
        super.init(loop: loop, type: UV_TIMER)
        try UVError.check(uv_timer_init(loop.raw, handle), "uv_timer_init")
        didInitialize()
    }

    private var handle: UnsafeMutablePointer<uv_timer_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_timer_t.self)
    }

    /// Starts (or restarts) the timer: `callback` runs after `afterMs`, then every `repeatMs` when it is not 0.
    public func start(afterMs: UInt64, repeatMs: UInt64 = 0, _ callback: @escaping () -> Void) throws(UVError) {
        loop.assertOnLoop()
        guard !isClosing else { throw UVError(code: UV_EBADF.rawValue, operation: "uv_timer_start") }
        self.callback = callback
        try UVError.check(uv_timer_start(handle, { timer in
            guard let timer, let data = timer.pointee.data else { return }
            let owner = Unmanaged<Timer>.fromOpaque(data).takeUnretainedValue()
            owner.callback?()
        }, afterMs, repeatMs), "uv_timer_start")
    }

    /// Stops the timer; it can be started again.
    public func stop() {
        guard !isClosing else { return }
        uv_timer_stop(handle)
    }

    /// The repeat interval in milliseconds (0 for one-shot).
    public var repeatMs: UInt64 {
        get { isClosing ? 0 : uv_timer_get_repeat(handle) }
        set { if !isClosing { uv_timer_set_repeat(handle, newValue) } }
    }

    /// Milliseconds until the next fire, 0 when due or stopped.
    public var dueInMs: UInt64 { isClosing ? 0 : uv_timer_get_due_in(handle) }

    override func didClose() { callback = nil }
}

import CLibUV

/// Delivers a POSIX signal (SIGINT, SIGTERM, …) to a callback on the loop (`uv_signal_t`).
///
/// `serve` watches SIGINT and SIGTERM to close every handle, flush storage and exit 0.
public final class SignalWatcher: LoopHandle {
    /// The watched signal number.
    public let signal: Int32
    private var callback: ((Int32) -> Void)?

    /// Starts watching `signal`; `callback` runs on the loop each time it arrives.
    public init(loop: Loop, signal: Int32, _ callback: @escaping (Int32) -> Void) throws(UVError) {
        self.signal = signal
        self.callback = callback
        super.init(loop: loop, type: UV_SIGNAL)
        let handle = UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_signal_t.self)
        try UVError.check(uv_signal_init(loop.raw, handle), "uv_signal_init")
        didInitialize()
        do {
            try UVError.check(uv_signal_start(handle, { handle, signum in
                guard let handle, let data = handle.pointee.data else { return }
                let owner = Unmanaged<SignalWatcher>.fromOpaque(data).takeUnretainedValue()
                owner.callback?(signum)
            }, signal), "uv_signal_start")
        } catch {
            close()
            throw error
        }
    }

    override func didClose() { callback = nil }
}

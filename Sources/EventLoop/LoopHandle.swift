import CLibUV

/// The common owner of one libuv handle: allocates its memory, gives libuv one retained reference in
/// `handle.data`, and takes that reference back exactly once in the close callback.
///
/// Every wrapper (``UDPSocket``, ``TCPServer``, ``TCPConnection``, ``Timer``, ``AsyncWakeup``, ``SignalWatcher``)
/// is a subclass, so ``Loop/shutdown()`` can close any handle it finds with `uv_walk`. Loop-owned: not `Sendable`.
public class LoopHandle {
    /// The loop this handle belongs to.
    public let loop: Loop
    /// The handle's memory, `uv_handle_size(type)` bytes; freed in `deinit`, which runs only after libuv let go.
    let rawHandle: UnsafeMutablePointer<uv_handle_t>
    private var initialized = false
    private var closeRequested = false

    init(loop: Loop, type: uv_handle_type) {
        self.loop = loop
        let bytes = uv_handle_size(type)
        rawHandle = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
            .initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            .withMemoryRebound(to: uv_handle_t.self, capacity: 1) { $0 }
    }

    deinit {
        rawHandle.deallocate()
    }

    /// Call right after a successful `uv_*_init`: from here on libuv holds a +1 on `self` until the close callback.
    final func didInitialize() {
        initialized = true
        rawHandle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// True once ``close()`` ran (or the handle never initialized); the handle may still be waiting for its callback.
    public final var isClosing: Bool { closeRequested || !initialized }

    /// Closes the handle. Idempotent. The owner's callbacks are dropped in the close callback, which breaks any
    /// reference cycle a callback closure formed with its owner; `deinit` follows once no Swift reference remains.
    public final func close() {
        guard initialized, !closeRequested else { return }
        closeRequested = true
        willClose()
        uv_close(rawHandle) { handle in
            guard let handle, let data = handle.pointee.data else { return }
            handle.pointee.data = nil
            let owner = Unmanaged<LoopHandle>.fromOpaque(data).takeRetainedValue()
            owner.didClose()
        }
    }

    /// Whether the handle keeps the loop running (`uv_ref`). Unref a probe or watcher that should not keep
    /// ``Loop/run()`` from returning.
    public final var keepsLoopAlive: Bool {
        get { initialized && uv_has_ref(rawHandle) != 0 }
        set {
            guard initialized, !closeRequested else { return }
            if newValue { uv_ref(rawHandle) } else { uv_unref(rawHandle) }
        }
    }

    /// The async callback's entry point (``AsyncWakeup`` overrides it): C callbacks cannot capture generics.
    func asyncFired() {}

    /// Runs on the loop before `uv_close`; subclasses stop their work here.
    func willClose() {}

    /// Runs in the close callback, after libuv let go; subclasses drop callbacks and report the close here.
    func didClose() {}
}

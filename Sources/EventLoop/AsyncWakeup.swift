import CLibUV

/// Wakes the loop from any thread (`uv_async_send`) and hands it messages through a locked mailbox.
///
/// libuv coalesces wake-ups: many sends may produce one callback. So the loop drains the mailbox fully on every
/// wake-up: the lock is taken once per batch, never per message. Other threads hold an ``AsyncSender``; the
/// wakeup itself stays on the loop.
public final class AsyncWakeup<Message: Sendable>: LoopHandle {
    private let mailbox: AsyncMailbox<Message>
    private var handler: ((Message) -> Void)?
    private var draining: [Message] = []

    /// Creates a wakeup whose `handler` runs on the loop for each message, in the order they were sent.
    public init(loop: Loop, handler: @escaping (Message) -> Void) throws(UVError) {
        mailbox = AsyncMailbox()
        self.handler = handler
        super.init(loop: loop, type: UV_ASYNC)
        try UVError.check(uv_async_init(loop.raw, handle, { async in
            guard let async, let data = async.pointee.data else { return }
            Unmanaged<LoopHandle>.fromOpaque(data).takeUnretainedValue().asyncFired()
        }), "uv_async_init")
        didInitialize()
        mailbox.attach(AsyncHandlePointer(raw: handle))
    }

    private var handle: UnsafeMutablePointer<uv_async_t> {
        UnsafeMutableRawPointer(rawHandle).assumingMemoryBound(to: uv_async_t.self)
    }

    /// A `Sendable` sender for other threads. Sends after ``LoopHandle/close()`` are refused (they return false).
    public var sender: AsyncSender<Message> { AsyncSender(mailbox: mailbox) }

    /// Sends from the loop thread itself (the handler runs on a later iteration, not re-entrantly).
    @discardableResult
    public func send(_ message: Message) -> Bool { mailbox.send(message) }

    override func asyncFired() {
        mailbox.take(into: &draining)
        guard let handler else { draining.removeAll(keepingCapacity: true); return }
        for message in draining { handler(message) }
        draining.removeAll(keepingCapacity: true)
    }

    override func willClose() {
        mailbox.detach()
    }

    override func didClose() { handler = nil }
}

/// The thread-safe half of an ``AsyncWakeup``: a message list and the async handle, both behind one lock.
final class AsyncMailbox<Message: Sendable>: Sendable {
    private struct State {
        var messages: [Message] = []
        /// The `uv_async_t`, nil once the wakeup is closing. Sending happens under the lock, so the handle's memory
        /// cannot be freed while a sender uses it.
        var handle: AsyncHandlePointer?
    }
    // The raw pointer inside is only used by uv_async_send, under the lock.
    private let state = PThreadLock(State())

    func attach(_ handle: AsyncHandlePointer) { state.withLock { $0.handle = handle } }
    func detach() { state.withLock { $0.handle = nil; $0.messages.removeAll() } }

    func send(_ message: Message) -> Bool {
        state.withLock { s in
            guard let handle = s.handle else { return false }
            s.messages.append(message)
            if s.messages.count == 1 {
                // A wake-up is already pending for a non-empty mailbox, and the drain takes everything.
                uv_async_send(handle.raw)
            }
            return true
        }
    }

    /// Swaps the pending messages into `buffer` (which must be empty), keeping both arrays' capacity.
    func take(into buffer: inout [Message]) {
        state.withLock { s in swap(&s.messages, &buffer) }
    }
}

/// The `uv_async_t` address, passed into the mailbox's lock.
// @unchecked Sendable: only `uv_async_send` (documented thread-safe) uses it off the loop, under the mailbox lock.
struct AsyncHandlePointer: @unchecked Sendable {
    let raw: UnsafeMutablePointer<uv_async_t>
}

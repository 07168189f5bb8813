#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`.
///
/// Used instead of Synchronization's `Mutex` for cross-thread hand-offs because on Linux `Mutex` is built on
/// futexes inside the precompiled standard library, which ThreadSanitizer cannot see: every hand-off through it
/// is reported as a race under `--sanitize=thread`. pthread mutexes are intercepted by TSan, so its reports stay
/// meaningful. Locking costs the same (an uncontended atomic) and happens once per batch, never per ping.
// @unchecked Sendable: `state` is only touched inside `withLock`, under `mutex`.
final class PThreadLock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}

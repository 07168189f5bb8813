import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// Dedicated worker threads for long CPU jobs (a contraction, a big assignment) that should not occupy libuv's
/// small shared pool; results come back to the loop through an ``AsyncWakeup``.
///
/// Jobs run in submission order across the threads; completions run on the loop in the order jobs finish. The
/// threads block on a semaphore when idle. ``stop()`` (or ``Loop/shutdown()`` closing the wakeup, followed by
/// `stop()`) ends them; a result that arrives after the wakeup closed is dropped.
final class WorkerThreads {
    private struct Job: Sendable {
        let id: UInt64
        let run: @Sendable () -> any Sendable
    }
    private final class Shared: Sendable {
        let jobs = PThreadLock<(queue: [Job], head: Int, stopping: Bool)>(([], 0, false))
        // A counting semaphore: one post per job (and one per thread at stop). sem_t is used only through
        // sem_post/sem_wait, which are thread-safe; the pointer never changes after init.
        nonisolated(unsafe) let semaphore: UnsafeMutablePointer<sem_t>
        let results: AsyncSender<(UInt64, any Sendable)>

        init(results: AsyncSender<(UInt64, any Sendable)>) {
            semaphore = .allocate(capacity: 1)
            sem_init(semaphore, 0, 0)
            self.results = results
        }
        deinit {
            sem_destroy(semaphore)
            semaphore.deallocate()
        }

        /// The next job, or nil when stopping.
        func next() -> Job? {
            while sem_wait(semaphore) != 0 {}   // EINTR: retry
            return jobs.withLock { state -> Job? in
                guard state.head < state.queue.count else { return nil }
                let job = state.queue[state.head]
                state.head += 1
                if state.head > 1_024, state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
        }
    }

    private let shared: Shared
    private let wakeup: AsyncWakeup<(UInt64, any Sendable)>
    private var completions: [UInt64: (any Sendable) -> Void] = [:]
    private var nextID: UInt64 = 0
    private var threads: [pthread_t] = []

    init(loop: Loop, count: Int) throws(UVError) {
        var completionsRef: ((UInt64, any Sendable) -> Void)?
        wakeup = try AsyncWakeup(loop: loop) { message in completionsRef?(message.0, message.1) }
        shared = Shared(results: wakeup.sender)
        completionsRef = { [unowned self] id, value in self.completions.removeValue(forKey: id)?(value) }
        for _ in 0..<max(1, count) {
            let box = Unmanaged.passRetained(shared).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let shared = Unmanaged<Shared>.fromOpaque(raw!).takeRetainedValue()
                while let job = shared.next() {
                    shared.results.send((job.id, job.run()))
                }
                return nil
            }, box)
            if rc != 0 {
                Unmanaged<Shared>.fromOpaque(box).release()
                stop()
                throw UVError(code: -rc, operation: "pthread_create")
            }
            threads.append(thread)
        }
        wakeup.keepsLoopAlive = false   // pending jobs keep it alive instead (see `pending`)
    }

    /// Jobs submitted whose completion has not run yet.
    var pending: Int { completions.count }

    func submit(_ run: @escaping @Sendable () -> any Sendable, completion: @escaping (any Sendable) -> Void) {
        let id = nextID
        nextID += 1
        completions[id] = completion
        if completions.count == 1 { wakeup.keepsLoopAlive = true }
        shared.jobs.withLock { $0.queue.append(Job(id: id, run: run)) }
        sem_post(shared.semaphore)
    }

    func didComplete() {
        if completions.isEmpty { wakeup.keepsLoopAlive = false }
    }

    /// Lets the threads finish their current job and exit; queued jobs that have not started are dropped.
    func stop() {
        let alreadyStopping = shared.jobs.withLock { state -> Bool in
            defer { state.stopping = true; state.queue.removeAll(); state.head = 0 }
            return state.stopping
        }
        guard !alreadyStopping else { return }
        for _ in threads { sem_post(shared.semaphore) }
        for thread in threads { pthread_detach(thread) }
        threads.removeAll()
        completions.removeAll()
        wakeup.close()
    }

    deinit { stop() }
}

import Dispatch
import Synchronization

/// A task executor whose jobs run on the thread that calls `drain`: synchronous start-up code waits for async work
/// (jwt-kit's key collection is an actor) by running that work itself, so it never blocks waiting for a thread of
/// Swift's cooperative pool, which it may itself be on (an engine made inside a test) and which may be busy.
/// Default actors and nonisolated async code follow a task's executor preference (SE-0417).
final class CallerThreadExecutor: TaskExecutor, @unchecked Sendable {   // @unchecked: `jobs` is behind a Mutex
    private let jobs = Mutex<[UnownedJob]>([])
    private let wakeup = DispatchSemaphore(value: 0)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        wakeup.signal()
    }

    /// Runs enqueued jobs on this thread until `finished()` holds (checked after each batch of jobs).
    func drain(until finished: () -> Bool) {
        while !finished() {
            wakeup.wait()
            while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }
}

import Foundation
import Synchronization

/// The queue and thread half of group commit, for any store: submissions from any thread pile up under a Mutex
/// and one dedicated thread hands them to `commit` in batches of at most `maxBatch` (one when group commit is
/// off). An idle thread sleeps on a semaphore; a submission finding it idle wakes it (one signal per wait), so a
/// lone write commits at once and batches grow with the load by themselves.
///
/// `GroupCommitWriter` commits each batch in one GRDB `write` transaction, `PostgresWriter` in one PostgreSQL
/// transaction.
final class WriteBatcher<Item: Sendable>: Sendable {
    private struct State {
        var queue: [Item] = []
        var writerIdle = false
        var closed = false
    }

    private let maxBatch: Int
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread `name`; `commit` runs on it for each batch, in submission order.
    init(name: String, maxBatch: Int, commit: @escaping @Sendable ([Item]) -> Void) {
        self.maxBatch = max(1, maxBatch)
        let thread = Thread { [self] in self.run(commit) }
        thread.name = name
        thread.start()
    }

    /// Queues an item; false (nothing queued) after `close()`.
    func submit(_ item: Item) -> Bool {
        let (accepted, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closed { return (false, false) }
            s.queue.append(item)
            let wake = s.writerIdle
            s.writerIdle = false
            return (true, wake)
        }
        if wake { wakeup.signal() }
        return accepted
    }

    /// Items waiting for the thread right now.
    var queued: Int { state.withLock { $0.queue.count } }

    /// Refuses new items, lets the thread commit what is queued, and waits for it to end. Idempotent.
    func close() {
        let (first, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closed { return (false, false) }
            s.closed = true
            let wake = s.writerIdle
            s.writerIdle = false
            return (true, wake)
        }
        guard first else { return }
        if wake { wakeup.signal() }
        finished.wait()
    }

    private func run(_ commit: @Sendable ([Item]) -> Void) {
        while true {
            let next = state.withLock { s -> (batch: [Item], stop: Bool) in
                if s.queue.isEmpty {
                    if s.closed { return ([], true) }
                    s.writerIdle = true
                    return ([], false)
                }
                let n = min(maxBatch, s.queue.count)
                let batch = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return (batch, false)
            }
            if next.stop { break }
            if next.batch.isEmpty {
                wakeup.wait()
                continue
            }
            commit(next.batch)
        }
        finished.signal()
    }
}

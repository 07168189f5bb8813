import Dispatch
import FleetIndex
import Foundation
import Synchronization
import Vocabulary

/// A `FenceDetector` on a thread of its own, pipelined behind the loop's ingest, so that fence checks use the second
/// core instead of the loop's time.
///
/// ```
/// loop: ingest window ─▶ submit(states, previous, nowMs): copied into the ring ──▶ fence thread: detector.process
///                         (a full ring: the loop waits for room; nothing is dropped)      │ events, in ping order
/// loop: takeEvents() ◀── outbox (a lock) ◀── `eventsReady` once the outbox stops being empty ◀┘
/// ```
/// The ring is single-producer (the loop) and single-consumer (the fence thread): accepted pings with their previous
/// fixes, in acceptance order, and one descriptor per batch (its size and its `nowMs`). The thread decides each batch
/// in order, so events come out in the order the inline detector would give them.
///
/// Changes to the fences (the index) and to the detector come from the loop only after `quiesce()`: the loop waits
/// until the thread has decided every ping handed over so far (nothing new arrives meanwhile: the loop is the only
/// producer), so a change lands between the same two pings as it would inline. Reads of the index on the loop
/// (`containing`, `GET /v1/fences`) need no wait: while the thread runs, nobody writes the index, and the scratch a
/// test writes (`FenceIndex.PointCells`) is the caller's own. Stale dwell state is forgotten by the thread itself,
/// before the first batch handed over after the request (`forgetStale`), as inline.
///
/// Memory ordering: the loop publishes a batch with a releasing store of the batch count, which the thread reads
/// acquiring; the thread publishes "decided up to here" (after its events are in the outbox) with a releasing
/// store, which `quiesce` and the room check read acquiring. Sleeping either side is a flag and a semaphore
/// (Dekker-style: each side stores its flag, then reads the other's counter, both sequentially consistent), so a
/// wakeup is never lost and an idle thread costs nothing.
final class FenceWorker: @unchecked Sendable {
    /// The detector the thread runs: touched by the thread while it runs, by the loop only while quiesced or stopped.
    let detector: FenceDetector
    /// Pings the ring holds (a power of two).
    let capacity: Int
    private let mask: Int
    private let states: UnsafeMutablePointer<DriverState>
    private let previous: UnsafeMutablePointer<PreviousFix>
    private let batchCounts: UnsafeMutablePointer<Int>
    private let batchNows: UnsafeMutablePointer<Int64>
    /// Per batch: forget dwell state older than this first (`Int64.min`: nothing to forget).
    private let batchStale: UnsafeMutablePointer<Int64>

    // The loop's side.
    private var producedPings = 0
    private var producedBatches = 0
    /// A `forgetStale` request waiting for the next batch.
    private var pendingStale = Int64.min
    /// Times `submit` found the ring full and waited for room (the loop's `hexfleet_fence_worker_waits_total`).
    private(set) var fullWaits = 0

    // The thread's side.
    private var consumedPings = 0
    private var consumedBatches = 0

    private let publishedBatches = Atomic<Int>(0)
    private let decidedPings = Atomic<Int>(0)
    private let workerSleeping = Atomic<Bool>(false)
    private let workAvailable = DispatchSemaphore(value: 0)
    private let loopWaiting = Atomic<Bool>(false)
    private let roomAvailable = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let ended = DispatchSemaphore(value: 0)
    private let outbox = Mutex<[FenceEvent]>([])
    private var spare: [FenceEvent] = []
    /// Called on the thread when the outbox stops being empty (the engine's loop wakeup); set before `start`.
    var eventsReady: (@Sendable () -> Void)?
    private var running = false

    /// A worker for `detector` (loop-owned until `start`) with a ring of `capacity` pings (rounded up to a power of
    /// two).
    init(detector: FenceDetector, capacity: Int = 16_384) {
        var size = 64
        while size < capacity { size <<= 1 }
        self.detector = detector
        self.capacity = size
        mask = size - 1
        states = .allocate(capacity: size)
        previous = .allocate(capacity: size)
        batchCounts = .allocate(capacity: size)
        batchNows = .allocate(capacity: size)
        batchStale = .allocate(capacity: size)
    }

    deinit {
        states.deallocate()
        previous.deallocate()
        batchCounts.deallocate()
        batchNows.deallocate()
        batchStale.deallocate()
    }

    /// Whether the thread runs (between `start` and `stop`).
    var isRunning: Bool { running }

    /// Starts the thread (`name` for debuggers). From the loop, once.
    func start(name: String = "hexfleet-fences") {
        guard !running else { return }
        running = true
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// Hands accepted pings (each with its driver's previous fix) to the thread, in order: copied, so the caller's
    /// buffers may change once this returns. Waits for room when the ring is full. From the loop, while running.
    func submit(_ s: UnsafeBufferPointer<DriverState>, _ p: UnsafeBufferPointer<PreviousFix>, nowMs: Int64) {
        var from = 0
        while from < s.count {
            // A batch is at most a quarter of the ring, so a large one streams through instead of waiting for all
            // of the ring to empty.
            let n = min(s.count - from, capacity / 4)
            waitForRoom(n)
            let at = producedPings & mask
            let first = min(n, capacity - at)
            (states + at).update(from: s.baseAddress! + from, count: first)
            (previous + at).update(from: p.baseAddress! + from, count: first)
            if first < n {
                states.update(from: s.baseAddress! + from + first, count: n - first)
                previous.update(from: p.baseAddress! + from + first, count: n - first)
            }
            batchCounts[producedBatches & mask] = n
            batchNows[producedBatches & mask] = nowMs
            batchStale[producedBatches & mask] = pendingStale
            pendingStale = .min
            producedPings += n
            producedBatches += 1
            publishedBatches.store(producedBatches, ordering: .sequentiallyConsistent)
            if workerSleeping.load(ordering: .sequentiallyConsistent),
               workerSleeping.exchange(false, ordering: .sequentiallyConsistent) {
                workAvailable.signal()
            }
            from += n
        }
    }

    /// Pings handed over and not yet decided (the loop's view).
    var backlog: Int { producedPings - decidedPings.load(ordering: .acquiring) }

    /// Waits until the thread has decided every ping handed over; the index and the detector are then the loop's
    /// until it next submits. Returns at once when nothing is pending (or the thread does not run).
    func quiesce() {
        guard running else { return }
        waitForRoom(capacity)
    }

    /// Events decided so far (in ping order), taken out of the outbox. From the loop.
    func takeEvents(into out: inout [FenceEvent]) {
        // The outbox trades its array for an empty one that kept its capacity, so neither side allocates.
        var batch = spare
        spare = []
        outbox.withLock { o in swap(&o, &batch) }
        out.append(contentsOf: batch)
        batch.removeAll(keepingCapacity: true)
        spare = batch
    }

    /// Forgets the dwell state of drivers whose last ping is older than `olderThanMs`: while the thread runs, it does
    /// so before the next batch handed over (between the same pings as inline); otherwise at once.
    func forgetStale(olderThanMs: Int64) {
        if running {
            pendingStale = olderThanMs
        } else {
            detector.forgetStale(olderThanMs: olderThanMs, max: Self.staleSlice)
        }
    }

    static let staleSlice = 20_000

    /// Lets the thread decide what is pending, ends it, and hands the detector back to the loop (the events stay in
    /// the outbox for `takeEvents`). Idempotent.
    func stop() {
        guard running else { return }
        quiesce()
        stopping.store(true, ordering: .sequentiallyConsistent)
        if workerSleeping.exchange(false, ordering: .sequentiallyConsistent) { workAvailable.signal() }
        ended.wait()
        running = false
        if pendingStale != .min { forgetStale(olderThanMs: pendingStale) }
        pendingStale = .min
    }

    /// Whether the loop is waiting for room in the ring (tests hold the thread until it is).
    var isLoopWaitingForRoom: Bool { loopWaiting.load(ordering: .sequentiallyConsistent) }
    /// Called on the thread before it decides each batch (tests only: set before `start`).
    var beforeBatch: (@Sendable () -> Void)?

    /// Waits until the ring has room for `n` pings.
    private func waitForRoom(_ n: Int) {
        if capacity - (producedPings - decidedPings.load(ordering: .acquiring)) >= n { return }
        if n < capacity { fullWaits += 1 }
        while true {
            loopWaiting.store(true, ordering: .sequentiallyConsistent)
            if capacity - (producedPings - decidedPings.load(ordering: .sequentiallyConsistent)) >= n {
                // The thread may have taken the flag already and signalled (or be about to): consume that signal.
                if !loopWaiting.exchange(false, ordering: .sequentiallyConsistent) { roomAvailable.wait() }
                return
            }
            roomAvailable.wait()
        }
    }

    private func run() {
        while true {
            let available = publishedBatches.load(ordering: .acquiring)
            if consumedBatches == available {
                if stopping.load(ordering: .sequentiallyConsistent) && publishedBatches.load(ordering: .acquiring) == consumedBatches {
                    break
                }
                workerSleeping.store(true, ordering: .sequentiallyConsistent)
                if publishedBatches.load(ordering: .sequentiallyConsistent) != consumedBatches
                    || stopping.load(ordering: .sequentiallyConsistent) {
                    // Work (or the stop) came in between: undo the flag, or consume the signal its sender gives.
                    if !workerSleeping.exchange(false, ordering: .sequentiallyConsistent) { workAvailable.wait() }
                    continue
                }
                workAvailable.wait()
                continue
            }
            while consumedBatches < available {
                beforeBatch?()
                let n = batchCounts[consumedBatches & mask], nowMs = batchNows[consumedBatches & mask]
                let stale = batchStale[consumedBatches & mask]
                if stale != .min { detector.forgetStale(olderThanMs: stale, max: Self.staleSlice) }
                let at = consumedPings & mask
                let first = min(n, capacity - at)
                detector.process(UnsafeBufferPointer(start: states + at, count: first),
                                 previous: UnsafeBufferPointer(start: previous + at, count: first), nowMs: nowMs)
                if first < n {
                    detector.process(UnsafeBufferPointer(start: states, count: n - first),
                                     previous: UnsafeBufferPointer(start: previous, count: n - first), nowMs: nowMs)
                }
                consumedPings += n
                consumedBatches += 1
                publishEvents()
                decidedPings.store(consumedPings, ordering: .sequentiallyConsistent)
                if loopWaiting.load(ordering: .sequentiallyConsistent),
                   loopWaiting.exchange(false, ordering: .sequentiallyConsistent) {
                    roomAvailable.signal()
                }
            }
        }
        ended.signal()
    }

    /// Moves the detector's events to the outbox (before the batch counts as decided, so a quiesced loop finds them
    /// all there), and tells the loop when the outbox was empty.
    private func publishEvents() {
        guard !detector.events.isEmpty else { return }
        let wasEmpty = outbox.withLock { o in
            let empty = o.isEmpty
            o.append(contentsOf: detector.events)
            return empty
        }
        detector.events.removeAll(keepingCapacity: true)
        if wasEmpty { eventsReady?() }
    }
}

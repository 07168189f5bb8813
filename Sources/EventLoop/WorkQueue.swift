import CLibUV

/// Runs `Sendable` jobs off the loop and hands each result back to a closure on the loop thread: on libuv's
/// thread pool (`uv_queue_work`), or on dedicated threads owned by this queue.
///
/// libuv's pool has 4 threads by default (`UV_THREADPOOL_SIZE`) and also serves file-system and DNS requests;
/// keep its jobs to bounded CPU work (a matching batch, a matrix). Jobs that run for seconds (contraction of a
/// road graph) belong on dedicated threads, `WorkQueue(loop:dedicatedThreads:)`, so they cannot starve the pool.
public final class WorkQueue {
    /// The loop results come back to.
    public let loop: Loop
    private var uvPending = 0
    private let dedicated: WorkerThreads?

    /// Jobs submitted and not yet completed on the loop.
    public var pending: Int { uvPending + (dedicated?.pending ?? 0) }

    /// A queue on libuv's thread pool whose completions run on `loop`.
    public init(loop: Loop) {
        self.loop = loop
        dedicated = nil
    }

    /// A queue with its own `dedicatedThreads` threads (at least 1); completions run on `loop`. Call ``stop()``
    /// when done (the threads also end when the queue is released).
    public init(loop: Loop, dedicatedThreads: Int) throws(UVError) {
        self.loop = loop
        dedicated = try WorkerThreads(loop: loop, count: dedicatedThreads)
    }

    /// Ends dedicated threads after their current job; queued jobs that have not started are dropped and their
    /// completions never run. No effect on a libuv-pool queue.
    public func stop() { dedicated?.stop() }

    /// Runs `work(input)` on a pool thread, then `completion(output)` on the loop. Loop thread only.
    ///
    /// The job keeps the loop alive until its completion ran. If the loop shuts down first, the job still finishes
    /// and its completion still runs, during the shutdown drain.
    public func run<Input: Sendable, Output: Sendable>(
        _ input: Input,
        _ work: @escaping @Sendable (Input) -> Output,
        completion: @escaping (Output) -> Void
    ) throws(UVError) {
        loop.assertOnLoop()
        if let dedicated {
            dedicated.submit({ work(input) }) { [dedicated] value in
                if let output = value as? Output { completion(output) }
                dedicated.didComplete()
            }
            return
        }
        let job = WorkJob(input: input, work: work, completion: completion)
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.initialize(to: uv_work_t())
        request.pointee.data = Unmanaged.passRetained(job as AnyWorkJob).toOpaque()
        uvPending += 1
        let queue = Unmanaged.passRetained(self)
        job.queue = queue
        let rc = uv_queue_work(loop.raw, request, { request in
            guard let request, let data = request.pointee.data else { return }
            Unmanaged<AnyWorkJob>.fromOpaque(data).takeUnretainedValue().runWork()
        }, { request, status in
            guard let request else { return }
            if let data = request.pointee.data {
                let job = Unmanaged<AnyWorkJob>.fromOpaque(data).takeRetainedValue()
                job.complete(cancelled: status == UV_ECANCELED.rawValue)
            }
            request.deallocate()
        })
        if rc < 0 {
            Unmanaged<AnyWorkJob>.fromOpaque(request.pointee.data!).release()
            queue.release()
            request.deallocate()
            uvPending -= 1
            throw UVError(code: rc, operation: "uv_queue_work")
        }
    }

    /// Runs `work()` on a pool thread, then `completion(output)` on the loop.
    public func run<Output: Sendable>(
        _ work: @escaping @Sendable () -> Output,
        completion: @escaping (Output) -> Void
    ) throws(UVError) {
        try run((), { _ in work() }, completion: completion)
    }

    fileprivate func finished() { uvPending -= 1 }
}

/// The type-erased job libuv's request points at.
class AnyWorkJob {
    func runWork() {}
    func complete(cancelled: Bool) {}
}

// @unchecked Sendable: `input`/`work` are Sendable and read on the pool thread; `output` is written there and read
// on the loop only in the after-work callback, which libuv orders after the work callback (a happens-before edge
// through its queue mutex). `completion` is touched on the loop thread only.
private final class WorkJob<Input: Sendable, Output: Sendable>: AnyWorkJob, @unchecked Sendable {
    let input: Input
    let work: @Sendable (Input) -> Output
    var completion: ((Output) -> Void)?
    var output: Output?
    var queue: Unmanaged<WorkQueue>?

    init(input: Input, work: @escaping @Sendable (Input) -> Output, completion: @escaping (Output) -> Void) {
        self.input = input
        self.work = work
        self.completion = completion
    }

    override func runWork() { output = work(input) }

    override func complete(cancelled: Bool) {
        if let queue {
            let q = queue.takeRetainedValue()
            q.finished()
            self.queue = nil
        }
        // A cancelled job never ran its work (uv_cancel); there is nothing to hand back.
        if !cancelled, let output { completion?(output) }
        completion = nil
    }
}

import FleetIndex
import HTTPServer
import JSON
import Vocabulary

/// Fence detection without the service around it: an index and a detector listening to one `PingIngest`, for
/// benchmarks and embedders (the engine's `FenceService` wires the same parts to its endpoints and sinks).
/// Loop-owned, like the ingest it listens to; with `threaded`, the detector runs on a fence thread of its own
/// (`FenceWorker`) behind the ingest, and `drain()` waits for it.
public final class FenceMonitor {
    let index = FenceIndex()
    let detector: FenceDetector
    let worker: FenceWorker
    /// Events seen so far, by kind (enter, exit, inside, outside, cross); with `threaded`, up to the last `drain()`.
    public private(set) var eventCounts = [Int](repeating: 0, count: FenceEventKind.allCases.count)
    private var taken: [FenceEvent] = []

    /// A monitor with no fences; `attach` it to an ingest pipeline. `threaded`: decide pings on a thread of its own.
    public init(threaded: Bool = false) {
        detector = FenceDetector(index: index)
        worker = FenceWorker(detector: detector)
        if threaded { worker.start(name: "hexfleet-fence-monitor") }
    }

    deinit { worker.stop() }

    /// Listens to `ingest`'s accepted records (and its first sightings).
    public func attach(to ingest: PingIngest, nowMs: @escaping () -> Int64) {
        let detector = self.detector, worker = self.worker
        ingest.movedListeners.append { [unowned self] states, previous, _ in
            if worker.isRunning {
                worker.submit(states, previous, nowMs: nowMs())
                return
            }
            detector.process(states, previous: previous, nowMs: nowMs())
            count(detector.events)
            detector.events.removeAll(keepingCapacity: true)
        }
    }

    /// Waits until every ping handed over is decided and counts its events (nothing to wait for unthreaded).
    public func drain() {
        worker.quiesce()
        worker.takeEvents(into: &taken)
        count(taken)
        taken.removeAll(keepingCapacity: true)
    }

    /// Drains, then ends the fence thread (later pings are decided inline).
    public func stop() {
        drain()
        worker.stop()
    }

    private func count(_ events: [FenceEvent]) {
        for e in events { eventCounts[Int(e.kind.rawValue)] += 1 }
    }

    /// Adds a fence from its `POST /v1/fences` JSON body (fixed shapes only).
    /// - Throws: the endpoint's `APIError` for a body it would refuse, or for a roaming or drive-time fence.
    public func add(json: String, nowMs: Int64) throws {
        let body: JSONValue
        do { body = try JSONReader.parse(json) } catch { throw APIError(.invalidJSON, "\(error)") }
        let d = try FenceDefinition.parse(body, nowMs: nowMs) { "fence-\(index.count + 1)" }
        guard case .fixed(let shape) = d.area else { throw APIError(.invalidShape, "fixed shapes only") }
        worker.quiesce()
        try index.add(d, shape: shape)
    }

    /// Fences registered.
    public var count: Int { index.count }

    /// How many fixed fences hold the point (`GET /v1/fences/containing`'s search), at most `limit`.
    public func containingCount(latDegrees: Double, lngDegrees: Double, limit: Int, nowMs: Int64) -> Int {
        index.containing(LatLng(degrees: latDegrees, lngDegrees), limit: limit, nowMs: nowMs, into: &found)
        return found.count
    }

    /// `containingCount`'s answer, kept so a query allocates nothing.
    private var found: [FenceIndex.Containing] = []

    /// The same answer by testing every fence: the obviously right twin `containingCount` is measured against.
    public func containingCountByScan(latDegrees: Double, lngDegrees: Double, limit: Int, nowMs: Int64) -> Int {
        let p = LatLng(degrees: latDegrees, lngDegrees)
        var n = 0
        for case let e? in index.entries where !e.definition.isExpired(nowMs) && e.shape?.contains(p) == true { n += 1 }
        return min(n, limit)
    }

    /// Drivers with dwell state (a timer running, or confirmed inside a dwell fence).
    public var dwellingDrivers: Int {
        worker.quiesce()
        return detector.dwellingCount
    }
}

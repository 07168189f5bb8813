import FleetIndex
import HTTPServer
import JSON
import Vocabulary

/// Fence detection without the service around it: an index and a detector listening to one `PingIngest`, for
/// benchmarks and embedders (the engine's `FenceService` wires the same parts to its endpoints and sinks).
/// Loop-owned, like the ingest it listens to.
public final class FenceMonitor {
    let index = FenceIndex()
    let detector: FenceDetector
    /// Events seen so far, by kind (enter, exit, inside, outside, cross).
    public private(set) var eventCounts = [Int](repeating: 0, count: FenceEventKind.allCases.count)

    /// A monitor with no fences; `attach` it to an ingest pipeline.
    public init() {
        detector = FenceDetector(index: index)
    }

    /// Listens to `ingest`'s accepted records (and its first sightings).
    public func attach(to ingest: PingIngest, nowMs: @escaping () -> Int64) {
        let detector = self.detector
        ingest.movedListeners.append { [unowned self] states, previous, _ in
            detector.process(states, previous: previous, nowMs: nowMs())
            for e in detector.events { eventCounts[Int(e.kind.rawValue)] += 1 }
            detector.events.removeAll(keepingCapacity: true)
        }
    }

    /// Adds a fence from its `POST /v1/fences` JSON body (fixed shapes only).
    /// - Throws: the endpoint's `APIError` for a body it would refuse, or for a roaming or drive-time fence.
    public func add(json: String, nowMs: Int64) throws {
        let body: JSONValue
        do { body = try JSONReader.parse(json) } catch { throw APIError(.invalidJSON, "\(error)") }
        let d = try FenceDefinition.parse(body, nowMs: nowMs) { "fence-\(index.count + 1)" }
        guard case .fixed(let shape) = d.area else { throw APIError(.invalidShape, "fixed shapes only") }
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
    public var dwellingDrivers: Int { detector.dwellingCount }
}

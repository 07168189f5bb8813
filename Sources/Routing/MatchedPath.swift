import HexGeo
import Vocabulary

/// The driven path being assembled from the chosen candidates: runs of directed edges (a new run only where a break
/// could not be bridged by road), each from an offset on its first edge to an offset on its last.
struct MatchedPath {
    struct Run {
        var edges: [Int] = []
        /// Meters from the first edge's tail where the run starts.
        var startOffset = 0.0
        /// Meters from the last edge's tail where it ends.
        var endOffset = 0.0
        /// Where the run starts when that is a node and no edge is driven yet.
        var startPoint: LatLng
    }

    /// Where a candidate sits on the path: its run and the index of its edge in the run (-1 before the first edge).
    struct Place {
        var run: Int
        var index: Int
        var offset: Double
    }

    let network: RoadNetwork
    var graph: RoadGraph { network.graph }
    var runs: [Run] = []

    init(network: RoadNetwork) { self.network = network }

    /// Starts a new run at `c` and answers its place.
    mutating func start(at c: MapMatcher.Candidate) -> Place {
        var run = Run(startPoint: c.point)
        if c.edge >= 0 {
            run.edges = [Int(c.edge)]
            run.startOffset = c.offset
            run.endOffset = c.offset
        }
        runs.append(run)
        return place()
    }

    /// The place of the path's current end.
    func place() -> Place {
        let r = runs.count - 1
        return Place(run: r, index: runs[r].edges.count - 1, offset: runs[r].endOffset)
    }

    /// Extends the last run along its last edge to `offset`.
    mutating func advance(to offset: Double) {
        runs[runs.count - 1].endOffset = offset
    }

    /// Extends the last run by `edges` (from the current end's node) and then onto `c`.
    mutating func append(_ edges: [Int], to c: MapMatcher.Candidate) {
        let r = runs.count - 1
        if runs[r].edges.isEmpty { runs[r].startOffset = 0 }
        runs[r].edges.append(contentsOf: edges)
        if c.edge >= 0 {
            runs[r].edges.append(Int(c.edge))
            runs[r].endOffset = c.offset
        } else if let last = runs[r].edges.last {
            runs[r].endOffset = graph.lengthsMeters[last]
        }
    }

    /// Meters along run `place.run` from its start to `place`.
    func meters(to place: Place) -> Double {
        let run = runs[place.run]
        guard place.index >= 0, !run.edges.isEmpty else { return 0 }
        var meters = -run.startOffset
        for e in run.edges[0..<min(place.index, run.edges.count)] { meters += graph.lengthsMeters[e] }
        return meters + place.offset
    }

    /// Moves the start of run `r` forward by `meters` (dropping edges passed whole), or back by `-meters` within its
    /// first edge; never past the run's end.
    mutating func moveStart(ofRun r: Int, by meters: Double) {
        guard !runs[r].edges.isEmpty else { return }
        var run = runs[r]
        if meters < 0 {
            run.startOffset = max(0, run.startOffset + meters)
        } else {
            var left = meters
            while run.edges.count > 1, run.startOffset + left >= graph.lengthsMeters[run.edges[0]] {
                left -= graph.lengthsMeters[run.edges[0]] - run.startOffset
                run.edges.removeFirst()
                run.startOffset = 0
            }
            run.startOffset += left
            if run.edges.count == 1 { run.startOffset = min(run.startOffset, run.endOffset) }
        }
        runs[r] = run
    }

    /// Moves the end of run `r` forward by `meters` within its last edge, or back by `-meters` (dropping edges passed
    /// whole); never before the run's start.
    mutating func moveEnd(ofRun r: Int, by meters: Double) {
        guard let last = runs[r].edges.last else { return }
        var run = runs[r]
        if meters > 0 {
            run.endOffset = min(graph.lengthsMeters[last], run.endOffset + meters)
        } else {
            var left = -meters
            while run.edges.count > 1, left >= run.endOffset {
                left -= run.endOffset
                run.edges.removeLast()
                run.endOffset = graph.lengthsMeters[run.edges[run.edges.count - 1]]
            }
            run.endOffset -= left
            if run.edges.count == 1 { run.endOffset = max(run.endOffset, run.startOffset) }
        }
        runs[r] = run
    }

    /// Meters and milliseconds driven, from each run's start offset to its end offset.
    func totals(durationsMs: [UInt32]) -> (meters: Double, milliseconds: Double) {
        var meters = 0.0, ms = 0.0
        for run in runs {
            for (k, e) in run.edges.enumerated() {
                let length = graph.lengthsMeters[e]
                var from = 0.0, to = length
                if k == 0 { from = run.startOffset }
                if k == run.edges.count - 1 { to = run.endOffset }
                let part = max(0, to - from)
                meters += part
                if length > 0 { ms += Double(durationsMs[e]) * part / length }
            }
        }
        return (meters, ms)
    }

    /// The geometry: each run's start, the nodes it passes and its end (runs follow each other; a jump between runs
    /// is drawn straight).
    func points() -> [LatLng] {
        var out: [LatLng] = []
        for run in runs {
            guard let first = run.edges.first else { out.append(run.startPoint); continue }
            out.append(point(on: first, at: run.startOffset))
            for e in run.edges.dropLast() { out.append(graph.coordinate(Int(graph.forwardHeads[e]))) }
            if let last = run.edges.last { out.append(point(on: last, at: run.endOffset)) }
        }
        // Drop repeats (a run starting or ending exactly at a node).
        var unique: [LatLng] = []
        unique.reserveCapacity(out.count)
        for p in out where unique.last != p { unique.append(p) }
        return unique
    }

    /// Every edge driven, in order.
    var edges: [Int] { runs.flatMap(\.edges) }

    /// The point `offset` meters from the tail of `edge`.
    func point(on edge: Int, at offset: Double) -> LatLng {
        let length = graph.lengthsMeters[edge]
        let f = length > 0 ? min(1, max(0, offset / length)) : 0
        let v = Int(graph.forwardHeads[edge]), tail = network.snapIndex.tail(of: edge)
        return LatLng(degrees: graph.latDegrees[tail] + f * (graph.latDegrees[v] - graph.latDegrees[tail]),
                      graph.lngDegrees[tail] + f * (graph.lngDegrees[v] - graph.lngDegrees[tail]))
    }
}

import Foundation
import HexGeo
import Synchronization
import Vocabulary

/// The Engine's one-call entry to routing: a graph, its free-flow hierarchy and a snapping index.
///
/// `open(path:cachePath:)` accepts either a saved graph file (memory-mapped) or an OSM PBF (imported and contracted,
/// then optionally saved to `cachePath` for the next start). Immutable and `Sendable`; make one `RouteQuery` per
/// thread.
public final class RoadNetwork: Sendable {
    /// The graph before contraction.
    public let graph: RoadGraph
    /// Free-flow weights and their hierarchy.
    public let freeFlow: RoutingWeights
    /// Nearest-segment index.
    public let snapIndex: SnapIndex
    /// Import counts when the network came from a PBF in this process; nil when loaded from a graph file.
    public let importSummary: ImportSummary?
    /// The distance hierarchy, contracted on first use (see `distanceWeights`).
    private let distanceCache = Mutex<RoutingWeights?>(nil)
    /// Each node's H3 cell per resolution asked for (isochrones), computed on first use.
    private let nodeCellCache = Mutex<[Int: NodeCells]>([:])

    init(graph: RoadGraph, hierarchy: ContractionHierarchy, importSummary: ImportSummary?) {
        self.graph = graph
        self.freeFlow = RoutingWeights(edgeWeights: Array(graph.durationsMs), hierarchy: hierarchy, generation: 0)
        self.snapIndex = SnapIndex(graph: graph)
        self.importSummary = importSummary
    }

    /// Opens a saved graph file, or imports an OSM PBF file (and saves the result to `cachePath` when given).
    /// A PBF is imported with `profile`'s rules; a graph file is taken as it is (it does not record its profile).
    public static func open(path: String, cachePath: String? = nil, profile: RoutingProfile = .car,
                            progress: ((String) -> Void)? = nil) throws(RoutingError) -> RoadNetwork {
        if isGraphFile(path) { return try load(path: path) }
        // A car graph cached before turn costs (file version 1) is imported again rather than served without them.
        if let cachePath, isGraphFile(cachePath), let cached = try? load(path: cachePath),
           profile != .car || cached.graph.turnPenaltyUnits != nil {
            return cached
        }
        let network = try importPBF(path: path, profile: profile.rules, progress: progress)
        if let cachePath { try network.save(to: cachePath) }
        return network
    }

    /// Whether `path` starts with the graph file magic.
    static func isGraphFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        return Array(head) == ByteRegion.magic
    }

    /// Imports and contracts an OSM PBF file.
    public static func importPBF(path: String, profile: any WayRules = CarProfile(),
                                 progress: ((String) -> Void)? = nil) throws(RoutingError) -> RoadNetwork {
        let (graph, summary) = try OSMImporter.importGraph(path: path, profile: profile, progress: progress)
        progress?("contracting \(graph.nodeCount) nodes")
        let start = ContinuousClock.now
        let hierarchy = Contractor.contract(graph, progress: progress)
        progress?("contracted in \(ContinuousClock.now - start): \(hierarchy.arcCount) arcs")
        return RoadNetwork(graph: graph, hierarchy: hierarchy, importSummary: summary)
    }

    /// Builds a network from a graph (contracting it).
    public static func build(graph: RoadGraph) -> RoadNetwork {
        RoadNetwork(graph: graph, hierarchy: Contractor.contract(graph), importSummary: nil)
    }

    /// Maps a saved graph file; throws `badMagic`, `badVersion`, `truncated` or `corrupt` for a bad file.
    public static func load(path: String) throws(RoutingError) -> RoadNetwork {
        let region = try ByteRegion.map(path: path)
        let sections = try region.sections()
        // Version 1 files predate turn penalties: one graph section fewer, read as no penalties.
        let graphSections = region.fileVersion == 1 ? RoadGraph.sectionCount - 1 : RoadGraph.sectionCount
        guard sections.count == graphSections + ContractionHierarchy.sectionCount else {
            throw RoutingError(.corrupt, "graph file has \(sections.count) sections, expected \(graphSections + ContractionHierarchy.sectionCount)")
        }
        let graph = try RoadGraph(region: region, sections: sections[0..<graphSections])
        let hierarchy = try ContractionHierarchy(region: region, sections: sections[graphSections...], nodeCount: graph.nodeCount)
        return RoadNetwork(graph: graph, hierarchy: hierarchy, importSummary: nil)
    }

    /// Saves graph and free-flow hierarchy to `path` (written to a temporary file, then renamed).
    public func save(to path: String) throws(RoutingError) {
        guard graph.turnPenaltyUnits != nil else {
            throw RoutingError(.unsupported, "a version 1 graph file is read as it is, not saved again: import the PBF anew")
        }
        let merged = try ByteRegion.merge([graph.region, freeFlow.hierarchy.region])
        try merged.write(to: path)
    }

    /// Calls `body` once per road segment (a two-way road once), for drawing the network.
    public func forEachRoadSegment(_ body: (_ from: LatLng, _ to: LatLng) -> Void) {
        graph.forEachSegment(body)
    }

    /// A query object (one per thread) on the time `weights` (free flow by default), minimising `optimize`.
    ///
    /// With `.distance` the search runs on `distanceWeights` and reports each route's duration under `weights`.
    public func makeQuery(weights: RoutingWeights? = nil, optimize: RoutingMetric = .time) -> RouteQuery {
        RouteQuery(network: self, weights: weights ?? freeFlow, optimize: optimize)
    }

    /// Road lengths in millimetres and their own hierarchy, for shortest-distance routes.
    ///
    /// Contracted on the first call (a few hundred milliseconds at city scale, once per process) rather than stored in
    /// the graph file, so loading and the memory of a time-only server stay as they were. Thread-safe.
    public var distanceWeights: RoutingWeights {
        distanceCache.withLock { cached in
            if let cached { return cached }
            let mm = (0..<graph.edgeCount).map { Self.millimetres(graph.lengthsMeters[$0]) }
            let hierarchy = mm.withUnsafeBufferPointer { Contractor.contract(graph, weights: $0) }
            let built = RoutingWeights(edgeWeights: mm, hierarchy: hierarchy, generation: 0, metric: .distance)
            cached = built
            return built
        }
    }

    /// Whether `distanceWeights` is already built (a caller on a latency-sensitive thread can defer the first build).
    public var hasDistanceWeights: Bool { distanceCache.withLock { $0 != nil } }

    /// Every node's H3 cell at `resolution` (0…15, else nil), computed once per resolution and kept.
    public func nodeCells(resolution: Int) -> NodeCells? {
        guard (0...H3.maxResolution).contains(resolution) else { return nil }
        return nodeCellCache.withLock { cache in
            if let cells = cache[resolution] { return cells }
            let cells = NodeCells(graph: graph, resolution: resolution)
            cache[resolution] = cells
            return cells
        }
    }

    /// An edge length as the distance metric's integer weight.
    static func millimetres(_ meters: Double) -> UInt32 { UInt32(clamping: Int64((meters * 1000).rounded())) }
}

/// The road nodes grouped by H3 cell at one resolution: cells in ascending id order, each node's index into them, and
/// how many nodes each cell holds.
public struct NodeCells: Sendable {
    /// The resolution.
    public let resolution: Int
    /// Distinct cells holding at least one node, ascending.
    public let cells: [H3Cell]
    /// Index into `cells` of each node's cell.
    public let cellIndexOfNode: [UInt32]
    /// Number of nodes in each cell of `cells`.
    public let nodeCounts: [UInt32]

    init(graph: RoadGraph, resolution: Int) {
        self.resolution = resolution
        let raw = (0..<graph.nodeCount).map { v in (try? H3.latLngToCell(graph.coordinate(v), resolution: resolution)) ?? H3Cell(rawValue: 0) }
        cells = Array(Set(raw)).sorted()
        var index: [H3Cell: UInt32] = [:]
        for (i, c) in cells.enumerated() { index[c] = UInt32(i) }
        cellIndexOfNode = raw.map { index[$0] ?? 0 }
        var counts = [UInt32](repeating: 0, count: cells.count)
        for i in cellIndexOfNode { counts[Int(i)] += 1 }
        nodeCounts = counts
    }
}

import Foundation
import HexGeo
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

    init(graph: RoadGraph, hierarchy: ContractionHierarchy, importSummary: ImportSummary?) {
        self.graph = graph
        self.freeFlow = RoutingWeights(weightsMs: Array(graph.durationsMs), hierarchy: hierarchy, generation: 0)
        self.snapIndex = SnapIndex(graph: graph)
        self.importSummary = importSummary
    }

    /// Opens a saved graph file, or imports an OSM PBF file (and saves the result to `cachePath` when given).
    public static func open(path: String, cachePath: String? = nil,
                            progress: ((String) -> Void)? = nil) throws(RoutingError) -> RoadNetwork {
        if isGraphFile(path) { return try load(path: path) }
        if let cachePath, isGraphFile(cachePath), let cached = try? load(path: cachePath) { return cached }
        let network = try importPBF(path: path, progress: progress)
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
    public static func importPBF(path: String, profile: CarProfile = CarProfile(),
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
        guard sections.count == RoadGraph.sectionCount + ContractionHierarchy.sectionCount else {
            throw RoutingError(.corrupt, "graph file has \(sections.count) sections, expected \(RoadGraph.sectionCount + ContractionHierarchy.sectionCount)")
        }
        let graph = try RoadGraph(region: region, sections: sections[0..<RoadGraph.sectionCount])
        let hierarchy = try ContractionHierarchy(region: region, sections: sections[RoadGraph.sectionCount...], nodeCount: graph.nodeCount)
        return RoadNetwork(graph: graph, hierarchy: hierarchy, importSummary: nil)
    }

    /// Saves graph and free-flow hierarchy to `path` (written to a temporary file, then renamed).
    public func save(to path: String) throws(RoutingError) {
        let merged = try ByteRegion.merge([graph.region, freeFlow.hierarchy.region])
        try merged.write(to: path)
    }

    /// Calls `body` once per road segment (a two-way road once), for drawing the network.
    public func forEachRoadSegment(_ body: (_ from: LatLng, _ to: LatLng) -> Void) {
        graph.forEachSegment(body)
    }

    /// A query object (one per thread) using `weights`, free flow by default.
    public func makeQuery(weights: RoutingWeights? = nil) -> RouteQuery {
        RouteQuery(network: self, weights: weights ?? freeFlow)
    }
}

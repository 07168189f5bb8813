import JSON

/// What an OSM import read and built; `json` is the CLI's summary line.
public struct ImportSummary: Sendable, Equatable {
    /// Nodes in the file (plain and dense), as `osmium fileinfo -e` counts them.
    public var nodesRead = 0
    /// Ways in the file.
    public var waysRead = 0
    /// Relations in the file.
    public var relationsRead = 0
    /// Ways a car may use.
    public var routableWays = 0
    /// Turn restrictions (node via) applied to the graph.
    public var restrictionsApplied = 0
    /// Turn restrictions skipped (via ways, exceptions for cars, members missing from the extract).
    public var restrictionsSkipped = 0
    /// Way node references whose node is not in the file (segments touching them are dropped).
    public var missingNodeRefs = 0
    /// Nodes in the final graph (copies for restrictions included).
    public var graphNodes = 0
    /// Directed edges in the final graph.
    public var graphEdges = 0
    /// Nodes dropped because they lie outside the largest strongly connected component.
    public var droppedNodes = 0
    /// Junctions whose turns carry a penalty (`TurnCosts`), before the component is kept.
    public var turnCostJunctions = 0
    /// Node copies added so that each approach to a charged junction pays its own turns.
    public var turnCostCopies = 0
    /// Distinct OSM nodes in the final graph (graph nodes less the copies for bans and turn costs).
    public var graphOSMNodes = 0

    /// One line of JSON with every count.
    public var json: String {
        var w = JSONWriter(capacity: 400)
        w.beginObject()
        for (key, value) in [("nodes_read", nodesRead), ("ways_read", waysRead), ("relations_read", relationsRead),
                             ("routable_ways", routableWays), ("restrictions_applied", restrictionsApplied),
                             ("restrictions_skipped", restrictionsSkipped), ("missing_node_refs", missingNodeRefs),
                             ("graph_nodes", graphNodes), ("graph_edges", graphEdges), ("dropped_nodes", droppedNodes),
                             ("turn_cost_junctions", turnCostJunctions), ("turn_cost_copies", turnCostCopies),
                             ("graph_osm_nodes", graphOSMNodes)] {
            w.key(key); w.number(value)
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

import Foundation

/// CSV views of a `RoadGraph` (for `hexfleet export-graph` and outside checks).
public enum GraphExport {
    /// `id,lat,lng` per node, with a header line; degrees to 7 decimals.
    public static func nodesCSV(_ graph: RoadGraph) -> String {
        var out = "id,lat,lng\n"
        out.reserveCapacity(graph.nodeCount * 32)
        for v in 0..<graph.nodeCount {
            out += "\(v),\(String(format: "%.7f", graph.latDegrees[v])),\(String(format: "%.7f", graph.lngDegrees[v]))\n"
        }
        return out
    }

    /// `from,to,length_m,duration_s` per directed edge, with a header line; durations are exact (whole milliseconds).
    public static func edgesCSV(_ graph: RoadGraph) -> String {
        var out = "from,to,length_m,duration_s\n"
        out.reserveCapacity(graph.edgeCount * 32)
        for u in 0..<graph.nodeCount {
            for e in graph.outgoing(u) {
                out += "\(u),\(graph.forwardHeads[e]),\(String(format: "%.3f", graph.lengthsMeters[e])),\(String(format: "%.3f", Double(graph.durationsMs[e]) / 1000))\n"
            }
        }
        return out
    }
}

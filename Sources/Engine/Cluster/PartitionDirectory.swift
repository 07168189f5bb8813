import HexGeo

/// Which engine owns each region partition: the H3 parent, at the cluster's partition resolution, of a driver's
/// cell (docs/cluster.md). Read on the loop; implementations refresh their view off the loop and publish it here.
protocol PartitionDirectory: AnyObject {
    /// This engine's node name (`--node`).
    var node: String { get }
    /// The partition resolution (`--partition-resolution`, default 3).
    var resolution: Int { get }
    /// The node holding the live lease on `partition`, or nil when nobody holds one.
    func owner(of partition: H3Cell) -> String?
    /// Every live node, this one included, sorted.
    var liveNodes: [String] { get }
}

extension PartitionDirectory {
    /// The partition `cell` falls in (the cell itself when it is coarser than the partition resolution).
    func partition(of cell: H3Cell) -> H3Cell {
        guard H3.getResolution(cell) > resolution, let parent = try? H3.cellToParent(cell, resolution: resolution) else { return cell }
        return parent
    }

    /// Whether this engine owns the partition `cell` falls in.
    func ownsPartition(of cell: H3Cell) -> Bool { owner(of: partition(of: cell)) == node }
}

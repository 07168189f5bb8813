import HexGeo

/// A partition directory that never changes by itself: an explicit owner per partition, and for every other
/// partition a fixed spread over the listed nodes (or nobody, without nodes). For tests and for running shards
/// before leases (`--cluster-nodes`); the lease directory (PostgreSQL) replaces it in a real cluster. Loop-owned;
/// settable, so a test can move a partition.
final class StaticPartitionDirectory: PartitionDirectory {
    let node: String
    let resolution: Int
    /// Owners set one by one; they win over the spread.
    var owners: [H3Cell: String]
    /// The nodes the spread assigns partitions to, sorted; empty: partitions not in `owners` have no owner.
    var spreadNodes: [String]

    /// A directory for `node` at `resolution` with `owners` fixed and the other partitions spread over `spreadNodes`.
    init(node: String, resolution: Int, owners: [H3Cell: String] = [:], spreadNodes: [String] = []) {
        self.node = node
        self.resolution = resolution
        self.owners = owners
        self.spreadNodes = Array(Set(spreadNodes)).sorted()
    }

    func owner(of partition: H3Cell) -> String? {
        if let explicit = owners[partition] { return explicit }
        guard !spreadNodes.isEmpty else { return nil }
        return spreadNodes[Self.spreadIndex(partition, count: spreadNodes.count)]
    }

    var liveNodes: [String] { Array(Set(spreadNodes).union(owners.values).union([node])).sorted() }

    /// Which of `count` nodes the spread gives `partition`: a mix of its bits, so that neighbouring partitions
    /// (whose indexes differ in a few low digits) land on different nodes.
    static func spreadIndex(_ partition: H3Cell, count: Int) -> Int {
        var x = partition.rawValue
        x = (x ^ (x >> 33)) &* 0xff51_afd7_ed55_8ccd
        x = (x ^ (x >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return Int(x % UInt64(count))
    }
}

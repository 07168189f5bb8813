import HexGeo

/// The loop's copy of the partition leases: who owns each partition, which nodes are alive, which partitions are
/// this engine's. The lease keeper refreshes it off the loop every round (`ShardService` applies each view here);
/// reads are plain dictionary look-ups on the loop.
final class LeasedPartitionDirectory: PartitionDirectory {
    let node: String
    let resolution: Int
    private var owners: [H3Cell: String] = [:]
    private var nodes: [String]
    /// The partitions this engine holds a lease on, with its epoch.
    private(set) var owned: [H3Cell: Int64] = [:]

    init(node: String, resolution: Int) {
        self.node = node
        self.resolution = resolution
        nodes = [node]
    }

    func owner(of partition: H3Cell) -> String? { owners[partition] }

    var liveNodes: [String] { nodes }

    /// Every partition with a live lease and its owner.
    var ownerMap: [H3Cell: String] { owners }

    /// Takes a round's view; answers the partitions this engine gained and lost since the last one, each sorted.
    func apply(_ view: LeaseView) -> (gained: [H3Cell], lost: [H3Cell]) {
        var newOwners: [H3Cell: String] = [:]
        newOwners.reserveCapacity(view.owners.count)
        for (p, o) in view.owners { newOwners[H3Cell(rawValue: UInt64(bitPattern: p))] = o }
        var newOwned: [H3Cell: Int64] = [:]
        for (p, e) in view.mine { newOwned[H3Cell(rawValue: UInt64(bitPattern: p))] = e }
        // A partition re-claimed under a new epoch between two views was lost and gained again: its orders reload.
        let gained = newOwned.filter { owned[$0.key] != $0.value }.keys.sorted()
        let lost = owned.filter { newOwned[$0.key] != $0.value }.keys.sorted()
        owners = newOwners
        owned = newOwned
        nodes = view.liveNodes.contains(node) ? view.liveNodes : (view.liveNodes + [node]).sorted()
        return (gained, lost)
    }
}

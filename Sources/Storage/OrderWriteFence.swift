import Vocabulary

/// What a region shard's order writes are fenced with (docs/cluster.md): the partition an order belongs to and the
/// epoch of this engine's lease on it. The store checks, inside each write's transaction, that the lease row still
/// names this node with that epoch and has not expired by the database's clock, so a stale owner writes nothing.
/// Called on the store's writer thread: implementations are thread-safe.
public protocol OrderWriteFence: Sendable {
    /// This engine's node name, the lease rows' `owner`.
    var node: String { get }
    /// The partition (an H3 cell id's 64 bits as a signed integer) of an order with this pick-up.
    func partition(ofPickup pickup: E7Point) -> Int64
    /// The epoch of this engine's lease on `partition`, or nil when it holds none.
    func epoch(of partition: Int64) -> Int64?
}

/// A store whose orders know their partition: what a shard loads when it gains partitions.
public protocol PartitionedOrderStore: AnyObject, Sendable {
    /// Every order not in a terminal status whose partition is one of `partitions`, oldest first.
    func liveOrders(inPartitions partitions: [Int64]) throws(StorageError) -> [OrderRecord]
    /// The orders holding a slot of each of `couriers` (`courier_slots`: dispatched, accepted or picked up, on any
    /// shard); couriers holding none are absent.
    func slotOrders(of couriers: [CourierID]) throws(StorageError) -> [CourierID: [OrderID]]
}

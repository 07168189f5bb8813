/// Settings of one region shard (docs/cluster.md): `--node`, `--partition-resolution`, `--cluster-nodes` and the
/// forwarding and query knobs.
public struct ClusterConfiguration: Sendable, Equatable {
    /// This engine's node name, a NATS subject token (1…64 of `A-Z a-z 0-9 _ -`); nil: not a shard (one engine).
    public var node: String?
    /// The H3 resolution of partitions (0…15; default 3).
    public var partitionResolution = 3
    /// Until leases decide ownership: the nodes partitions are spread over (a fixed hash of the partition), this one
    /// included. Empty: partitions not in `staticOwners` have no owner (every engine keeps what it takes).
    public var staticNodes: [String] = []
    /// Fixed owners of single partitions (H3 index → node), over the spread; for tests.
    public var staticOwners: [UInt64: String] = [:]
    /// Records per forwarded message at most.
    public var forwardBatchRecords = 512
    /// Milliseconds a forwarded record waits for others going to the same shard.
    public var forwardFlushMs: UInt64 = 2
    /// Milliseconds a gathered query waits for the other shards before answering with what came.
    public var queryTimeoutMs: UInt64 = 500

    /// A shard named `node` (nil: not a shard).
    public init(node: String? = nil) { self.node = node }
}

extension DriverTable {
    /// The bucket keys (the scheme's cells: H3 cell ids with `H3CellScheme`) holding at least one driver, stale or
    /// not, in no set order: one pass over the buckets, far fewer than the rows in a dense fleet (a shard asks for
    /// the partitions these cells fall in, docs/cluster.md).
    public func occupiedCells() -> [UInt64] {
        var out: [UInt64] = []
        buckets.forEachBucket { key, _, _ in out.append(key) }
        return out
    }
}

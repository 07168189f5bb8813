import FleetIndex

/// The newest fix of each driver another shard holds, as those shards published them (docs/cluster.md, "Tracking
/// across shards"): what the tracking hub shows beside its own table. A fix replaces a driver's entry only when it
/// is newer; an entry goes when the driver shows up in the local table with a fix at least as new, or when it is
/// older than the table's staleness limit. Loop-owned.
struct RemoteDriverStates {
    private var states: [UInt64: DriverState] = [:]

    var isEmpty: Bool { states.isEmpty }
    var count: Int { states.count }

    /// Stores `s` when it is newer than the driver's entry (or there is none); true when stored.
    mutating func offer(_ s: DriverState) -> Bool {
        if let known = states[s.id.rawValue], known.timestampMs >= s.timestampMs { return false }
        states[s.id.rawValue] = s
        return true
    }

    /// The local table took `s`: a remote entry no newer goes. True when a remote entry is newer (the claim
    /// exchange will move the driver to its shard; meanwhile the remote fix is the one to show).
    mutating func tookLocally(_ s: DriverState) -> Bool {
        guard let known = states[s.id.rawValue] else { return false }
        if known.timestampMs > s.timestampMs { return true }
        states[s.id.rawValue] = nil
        return false
    }

    func state(of id: UInt64) -> DriverState? { states[id] }

    /// Every entry (for snapshots of new subscriptions).
    var all: Dictionary<UInt64, DriverState>.Values { states.values }

    /// Drops entries whose fix is older than `freshAfterMs` (in place: few go at a time, and a filtered copy of a
    /// big fleet's entries would cost the loop far more).
    mutating func removeStale(freshAfterMs: Int64) {
        guard !states.isEmpty else { return }
        var stale: [UInt64] = []
        for (id, s) in states where s.timestampMs < freshAfterMs { stale.append(id) }
        for id in stale { states[id] = nil }
    }
}

import Foundation
import HexGeo
import Logging
import Storage
import Synchronization
import Vocabulary

/// What the lease keeper tells the loop after each round: who holds each partition now and who is alive.
struct LeaseView: Sendable, Equatable {
    /// Partition → holder of its live lease. A lease this node held in a previous life (same name, before a
    /// restart) is left out: nobody can write with it, and it is claimed afresh once it lapses.
    var owners: [Int64: String]
    /// Nodes whose heartbeat is live, sorted.
    var liveNodes: [String]
    /// This node's leases: partition → epoch.
    var mine: [Int64: Int64]
}

/// This engine's side of the partition leases (docs/cluster.md), on a thread of its own because libpq blocks:
/// every `renewMs` it beats the node's heartbeat, renews its leases in one statement, reads every lease and live
/// node, claims the partitions it should, and hands the result to the loop. It is also the store's
/// `OrderWriteFence`: the writer thread asks it for the epoch it holds on an order's partition.
///
/// Which node claims a partition nobody holds (a lapsed lease, or one a ping or an order asked for): the winner of
/// rendezvous hashing over the live nodes claims at once; any other node that wants it claims once it has gone
/// unclaimed for `claimGraceMs` (its winner may be dying, or never see its pings). PostgreSQL decides races.
final class LeaseKeeper: OrderWriteFence, Sendable {
    /// The lease timings (docs/cluster.md, "Timings").
    struct Settings: Sendable {
        /// How long a lease (and a heartbeat) lasts past its last renewal, by PostgreSQL's clock.
        var ttlMs: Int64 = 3_000
        /// How often the keeper runs a round.
        var renewMs: Int64 = 1_000
        /// How long a wanted partition stays unclaimed before a node that is not its rendezvous winner claims it.
        var claimGraceMs: Int64 = 2_000
    }

    let node: String
    /// The partition resolution (`--partition-resolution`).
    let resolution: Int
    let settings: Settings
    private let store: PartitionLeaseStore
    private let logger: Logger

    private struct State {
        var mine: [Int64: Int64] = [:]
        var wanted: Set<Int64> = []
        /// Monotonic time (ns) just before the last round whose renewal succeeded.
        var lastRenewedNs: UInt64?
        var stopping = false
        var publish: (@Sendable (LeaseView) -> Void)?
    }
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(false)

    /// Connects to the lease tables (migrating them if needed); nothing is claimed before `start`.
    init(node: String, resolution: Int, postgresURL: String, settings: Settings = Settings(), logger: Logger) throws(StorageError) {
        self.node = node
        self.resolution = resolution
        self.settings = settings
        self.logger = logger
        store = try PartitionLeaseStore(url: postgresURL)
    }

    // MARK: - OrderWriteFence (any thread)

    func partition(ofPickup pickup: E7Point) -> Int64 { Self.partition(of: pickup.latLng, resolution: resolution) }

    func epoch(of partition: Int64) -> Int64? {
        state.withLock { s in
            if let epoch = s.mine[partition] { return epoch }
            // An order for a partition nobody may hold yet: ask for it in the next round.
            s.wanted.insert(partition)
            return nil
        }
    }

    /// The partition holding `point`, as the lease rows store it (the H3 cell id's 64 bits).
    static func partition(of point: LatLng, resolution: Int) -> Int64 {
        let cell = (try? H3.latLngToCell(point, resolution: resolution)) ?? H3Cell(rawValue: 0)
        return Int64(bitPattern: cell.rawValue)
    }

    /// Asks for partitions this engine has seen traffic in (claimed in the next rounds if nobody holds them).
    func want(_ partitions: some Sequence<Int64>) {
        state.withLock { $0.wanted.formUnion(partitions) }
    }

    /// This node's leases now (partition → epoch).
    var held: [Int64: Int64] { state.withLock { $0.mine } }

    // MARK: - the thread

    /// Starts the rounds; each round's view goes to `publish` (from the keeper's thread).
    func start(publish: @escaping @Sendable (LeaseView) -> Void) {
        state.withLock { $0.publish = publish }
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in run() }
        thread.name = "hexfleet.cluster.leases"
        thread.start()
    }

    /// Ends the rounds, releases this node's leases (so survivors need not wait for them to lapse) and leaves the
    /// live nodes. Blocks until the thread is done (at most one statement's round trip after its current round).
    func stop() {
        guard running.load(ordering: .acquiring) else { return }
        state.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    /// Runs one round now, on the caller's thread (tests; the thread runs the same rounds).
    func roundNow() -> LeaseView? {
        var unowned: [Int64: UInt64] = [:]
        return round(&unowned)
    }

    private func run() {
        var unownedSince: [Int64: UInt64] = [:]
        while true {
            if state.withLock({ $0.stopping }) {
                let mine = state.withLock { s in let m = s.mine; s.mine = [:]; return m }
                do {
                    try store.release(mine, node: node)
                    try store.leave(node: node)
                } catch {
                    logger.warning("could not release the partition leases at stop; they lapse on their own",
                                   metadata: ["error": "\(error)"])
                }
                finished.signal()
                return
            }
            if let view = round(&unownedSince) {
                let publish = state.withLock { $0.publish }
                publish?(view)
            }
            _ = wake.wait(timeout: .now() + .milliseconds(Int(settings.renewMs)))
        }
    }

    /// One round: heartbeat, renew, read, claim. On a database error the leases are dropped locally once they
    /// would have lapsed on the server (the round's start plus the TTL), and the view says so.
    private func round(_ unownedSince: inout [Int64: UInt64]) -> LeaseView? {
        let startedNs = DispatchTime.now().uptimeNanoseconds
        let ttl = settings.ttlMs
        do {
            try store.heartbeat(node: node, ttlMs: ttl)
            let before = state.withLock { $0.mine }
            let renewed = try store.renew(before, node: node, ttlMs: ttl)
            state.withLock { s in
                for (p, e) in before where !renewed.contains(p) && s.mine[p] == e { s.mine[p] = nil }
                s.lastRenewedNs = startedNs
            }
            for (p, e) in before where !renewed.contains(p) {
                logger.warning("lost a partition lease", metadata: ["partition": "\(PartitionText.hex(p))", "epoch": "\(e)"])
            }
            let leases = try store.leases()
            var nodes = try store.liveNodes()
            if !nodes.contains(node) { nodes = (nodes + [node]).sorted() }
            let mine = state.withLock { $0.mine }
            var owners: [Int64: String] = [:]
            var lapsed: Set<Int64> = []
            for l in leases {
                if !l.isLive { lapsed.insert(l.partition) }
                else if l.owner != node || mine[l.partition] == l.epoch { owners[l.partition] = l.owner }
            }
            let wanted = state.withLock { $0.wanted }
            let known = Set(leases.map(\.partition))
            let candidates = lapsed.union(wanted.subtracting(known))
            for p in candidates.sorted() {
                let since = unownedSince[p] ?? startedNs
                unownedSince[p] = since
                let waited = Int64((startedNs - since) / 1_000_000)
                guard Rendezvous.winner(of: p, among: nodes) == node || waited >= settings.claimGraceMs else { continue }
                if let epoch = try store.claim(p, node: node, ttlMs: ttl) {
                    state.withLock { $0.mine[p] = epoch }
                    owners[p] = node
                    logger.info("claimed a partition", metadata: ["partition": "\(PartitionText.hex(p))", "epoch": "\(epoch)"])
                }
            }
            unownedSince = unownedSince.filter { candidates.contains($0.key) && owners[$0.key] == nil }
            // A wanted partition stays wanted until somebody holds it (a lease of this node's previous life counts:
            // it lapses and is claimed as a lapsed one).
            let held = state.withLock { s in
                s.wanted = s.wanted.filter { owners[$0] == nil && (!known.contains($0) || lapsed.contains($0)) }
                return s.mine
            }
            return LeaseView(owners: owners, liveNodes: nodes, mine: held)
        } catch {
            let dropped = state.withLock { s -> Bool in
                guard !s.mine.isEmpty, let last = s.lastRenewedNs,
                      Int64((startedNs - last) / 1_000_000) >= ttl - settings.renewMs else { return false }
                s.mine = [:]
                return true
            }
            logger.warning("partition lease round failed", metadata: ["error": "\(error)", "leases_dropped": "\(dropped)"])
            return dropped ? LeaseView(owners: [:], liveNodes: [node], mine: [:]) : nil
        }
    }
}

/// Rendezvous (highest random weight) hashing: every node computes the same winner for a partition from the same
/// live set, and when a node leaves only its partitions move. The hash is fixed (FNV-1a then a SplitMix64 finish),
/// never Swift's per-process seeded `Hasher`, so engines agree.
enum Rendezvous {
    static func weight(node: String, partition: Int64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in node.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var z = (h ^ UInt64(bitPattern: partition)) &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The node that should hold `partition` among `nodes` (nil for none); ties go to the smaller name.
    static func winner(of partition: Int64, among nodes: [String]) -> String? {
        nodes.max { a, b in
            let wa = weight(node: a, partition: partition), wb = weight(node: b, partition: partition)
            return wa != wb ? wa < wb : a > b
        }
    }
}

/// Partitions in logs and errors as H3 writes cells: lowercase hex.
enum PartitionText {
    static func hex(_ partition: Int64) -> String { String(UInt64(bitPattern: partition), radix: 16) }
}

extension LeaseKeeper {
    /// The keeper of a cluster-mode engine (`--node`): its leases live in the orders' PostgreSQL.
    /// - Throws: `ConfigurationError` without `--postgres` (the CLI refuses that earlier, naming the flag).
    convenience init(configuration: EngineConfiguration, node: String, logger: Logger) throws {
        guard let url = configuration.postgresURL else {
            throw ConfigurationError(key: "node", source: nil, "cluster mode (a node name) needs --postgres: the leases live there")
        }
        try self.init(node: node, resolution: configuration.cluster.partitionResolution, postgresURL: url, logger: logger)
    }
}

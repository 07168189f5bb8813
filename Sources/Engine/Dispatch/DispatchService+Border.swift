import Dispatcher
import FleetIndex
import HexGeo
import Storage
import Vocabulary

/// What dispatch needs of the cluster (docs/cluster.md, "Dispatch across partition borders"): who owns which
/// partition, a way to ask the other shards for their couriers near a point, and the couriers' slots in PostgreSQL.
final class DispatchCluster {
    let directory: any PartitionDirectory
    let gatherer: any FleetGatherer
    /// Reads the orders holding each courier's slots (`PartitionedOrderStore.slotOrders`); runs on a worker.
    let slotOrders: @Sendable ([CourierID]) throws(StorageError) -> [CourierID: [OrderID]]
    /// Rounds' waiting orders whose search disk reached a partition this shard does not own.
    var borderOrders: UInt64 = 0
    /// Nearby queries sent to the other shards for them (each asks every other live shard).
    var borderQueries: UInt64 = 0
    /// Couriers other shards hold that rounds considered, and offers made to them.
    var remoteCandidates: UInt64 = 0
    var remoteOffers: UInt64 = 0
    /// Slot reads that failed (the round then ran on this shard's own knowledge; PostgreSQL still decides).
    var slotReadFailures: UInt64 = 0
    /// How long the last round waited for the cluster (the gathered couriers and the slot read), in microseconds.
    var lastPrepareMicros: UInt64 = 0

    init(directory: any PartitionDirectory, gatherer: any FleetGatherer,
         slotOrders: @escaping @Sendable ([CourierID]) throws(StorageError) -> [CourierID: [OrderID]]) {
        self.directory = directory
        self.gatherer = gatherer
        self.slotOrders = slotOrders
    }

    /// Average H3 hexagon edge length (metres) at each resolution 0…15 (H3's published table).
    static let averageEdgeMeters: [Double] = [
        1_281_256.011, 483_056.8391, 182_512.9565, 68_979.22179, 26_071.75968, 9_854.090990, 3_724.532667,
        1_406.475763, 531.414010, 200.786148, 75.863783, 28.663897, 10.830188, 4.092010, 1.546100, 0.584169,
    ]

    /// The partitions a disk of `radiusMeters` around `center` may reach: a superset, from the cells of a grid disk
    /// at a resolution whose edge is about a quarter of the radius (never coarser than the partitions) that can
    /// touch the disk (centre within the radius plus 1.5 average edges: more than any cell's centre-to-corner
    /// distance at that resolution), mapped to their partitions. The ring count leaves room for cells down to 0.6
    /// of the average edge and for `center` lying anywhere in its own cell.
    static func partitionsReached(from center: LatLng, radiusMeters: Double, in directory: any PartitionDirectory) -> Set<H3Cell> {
        var res = directory.resolution
        while res < 15, Self.averageEdgeMeters[res + 1] >= radiusMeters / 4 { res += 1 }
        let edge = Self.averageEdgeMeters[res]
        guard let cell = try? H3.latLngToCell(center, resolution: res) else { return [] }
        let rings = Int((radiusMeters / (0.9 * edge)).rounded(.up)) + 1
        var disk: [H3Cell] = []
        guard (try? H3.gridDisk(cell, k: rings, into: &disk)) != nil else { return [directory.partition(of: cell)] }
        var out = Set<H3Cell>()
        for c in disk {
            guard let middle = try? H3.cellToLatLng(c), Geodesy.distanceMeters(center, middle) <= radiusMeters + 1.5 * edge else { continue }
            out.insert(directory.partition(of: c))
        }
        return out
    }

    /// Whether some partition the disk may reach is not this shard's (another's, or nobody's).
    func reachesOtherPartitions(from center: LatLng, radiusMeters: Double) -> Bool {
        Self.partitionsReached(from: center, radiusMeters: radiusMeters, in: directory).contains { directory.owner(of: $0) != directory.node }
    }
}

/// What a round knows of the cluster: the couriers other shards hold near its border orders, and the orders each
/// candidate courier holds on other shards (from `courier_slots`), which its capacity here leaves room for.
struct BorderRoundInputs {
    var remote: [DriverID: DriverState] = [:]
    var heldElsewhere: [CourierID: Int] = [:]
}

extension DispatchService {
    /// Cluster mode, before a round: gathers the couriers other shards hold within the search radius of each due
    /// order whose disk reaches a partition this shard does not own (one nearby query to every other live shard
    /// each, answered within `--cluster-query-timeout-ms`), then reads the candidates' slots in PostgreSQL on a
    /// worker, and calls `ready` on the loop with both. Nothing here blocks the loop.
    func prepareBorderRound(_ cluster: DispatchCluster, nowMs now: Int64, ready: @escaping (BorderRoundInputs) -> Void) {
        let started = ContinuousClock.now
        let finish = { (inputs: BorderRoundInputs) in
            cluster.lastPrepareMicros = Self.microseconds(since: started)
            ready(inputs)
        }
        var candidates = Set<CourierID>()
        var asks: [(point: LatLng, k: Int, radiusMeters: Double, statuses: StatusFilter)] = []
        var found: [NearbyDriver] = []
        for order in waiting.waiting {
            let search = candidateSearch(for: order, nowMs: now)
            found.removeAll(keepingCapacity: true)
            table.nearest(to: order.pickup, k: search.k, maxRadiusMeters: search.radiusMeters, statuses: search.statuses,
                          nowMs: now, into: &found)
            for d in found { candidates.insert(d.state.id) }
            if cluster.gatherer.gathers, cluster.reachesOtherPartitions(from: order.pickup, radiusMeters: search.radiusMeters) {
                asks.append((order.pickup, search.k, search.radiusMeters, search.statuses))
            }
        }
        cluster.borderOrders &+= UInt64(asks.count)
        var inputs = BorderRoundInputs()
        var outstanding = asks.count
        let readSlots = { [unowned self] in
            for id in inputs.remote.keys { candidates.insert(id) }
            let ids = candidates.sorted { $0.rawValue < $1.rawValue }
            let read = cluster.slotOrders
            do {
                try workers.run(ids, { ids in Result { () throws(StorageError) in try read(ids) } }) { [unowned self] result in
                    switch result {
                    case .success(let slots):
                        var offered: [CourierID: Set<OrderID>] = [:]
                        for offer in offers.openOffers.values { offered[offer.courier, default: []].insert(offer.order.id) }
                        for (courier, orders) in slots {
                            // This shard's own offers and plans are counted where they are; the rest is elsewhere.
                            let elsewhere = orders.filter { plans[courier]?.details[$0] == nil && offered[courier]?.contains($0) != true }.count
                            if elsewhere > 0 { inputs.heldElsewhere[courier] = elsewhere }
                        }
                    case .failure:
                        cluster.slotReadFailures &+= 1
                    }
                    finish(inputs)
                }
            } catch {
                cluster.slotReadFailures &+= 1
                finish(inputs)
            }
        }
        guard outstanding > 0 else { readSlots(); return }
        for ask in asks {
            cluster.borderQueries &+= 1
            cluster.gatherer.gather(.nearby(ask.point, k: ask.k, radiusMeters: ask.radiusMeters, ask.statuses), local: []) { [unowned self] answer, _ in
                for d in answer where d.node != cluster.directory.node && table.state(of: d.state.id) == nil {
                    if let known = inputs.remote[d.state.id], known.timestampMs >= d.state.timestampMs { continue }
                    inputs.remote[d.state.id] = d.state
                }
                outstanding -= 1
                if outstanding == 0 {
                    cluster.remoteCandidates &+= UInt64(inputs.remote.count)
                    readSlots()
                }
            }
        }
    }

    /// The state dispatch trusts for a courier when it makes an offer: this table's, or for a courier another shard
    /// holds, the one its shard gave for the round.
    func courierState(_ id: CourierID) -> DriverState? {
        table.state(of: id) ?? border.remote[id]
    }

    /// Whether a courier's state is too old to offer it anything (this table's rule, or the same limit for another
    /// shard's courier).
    func isStaleCourier(_ id: CourierID, nowMs: Int64) -> Bool {
        if table.state(of: id) != nil { return table.isStale(id, nowMs: nowMs) }
        guard let s = border.remote[id] else { return true }
        return nowMs - s.timestampMs > table.staleAfterMs
    }
}

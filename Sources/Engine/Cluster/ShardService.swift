import CoreMetrics
import EventLoop
import FleetIndex
import HexGeo
import Logging
import Prometheus
import Storage
import Vocabulary

/// Region shards (docs/cluster.md): runs the lease keeper, publishes each round's owner map to the loop through
/// `directory`, asks for the partitions this engine sees drivers in, and moves orders with the partitions: on a gain
/// it loads the partition's live orders from PostgreSQL (off the loop) into orders and dispatch, on a loss it drops
/// them. Other services hear gains and losses through `onPartitionsChanged`.
final class ShardService: EngineService {
    let directory: LeasedPartitionDirectory
    let keeper: LeaseKeeper
    private let table: DriverTable
    private let orders: OrdersService
    private let store: any PartitionedOrderStore
    private let workers: WorkQueue
    private let loop: Loop
    private let logger: Logger
    private var wakeup: AsyncWakeup<LeaseView>?
    private var listeners: [(_ gained: [H3Cell], _ lost: [H3Cell]) -> Void] = []
    private var lastScanMs: Int64 = 0
    /// Gained partitions whose orders could not be read yet (the read failed): tried again at the next scan.
    private var unloaded: Set<H3Cell> = []
    /// How often the live table's cells are scanned for partitions to ask for.
    var scanIntervalMs: Int64 = 1_000
    /// Orders loaded for gained partitions, and dropped for lost ones, since start.
    private(set) var ordersAdopted = 0
    private(set) var ordersDropped = 0
    /// `hexfleet_cluster_partitions_held`, `hexfleet_cluster_live_nodes` and the gains, losses and orders moved.
    private let heldGauge, nodesGauge: CoreMetrics.Gauge
    private let gainedCounter, lostCounter, adoptedCounter, droppedCounter: CoreMetrics.Counter

    init(keeper: LeaseKeeper, directory: LeasedPartitionDirectory, table: DriverTable, orders: OrdersService,
         store: any PartitionedOrderStore, workers: WorkQueue, loop: Loop, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.keeper = keeper
        self.directory = directory
        self.table = table
        self.orders = orders
        self.store = store
        self.workers = workers
        self.loop = loop
        self.logger = logger
        let f = PrometheusMetricsFactory(registry: registry)
        heldGauge = CoreMetrics.Gauge(label: "hexfleet_cluster_partitions_held", factory: f)
        nodesGauge = CoreMetrics.Gauge(label: "hexfleet_cluster_live_nodes", factory: f)
        gainedCounter = CoreMetrics.Counter(label: "hexfleet_cluster_partitions_gained_total", factory: f)
        lostCounter = CoreMetrics.Counter(label: "hexfleet_cluster_partitions_lost_total", factory: f)
        adoptedCounter = CoreMetrics.Counter(label: "hexfleet_cluster_orders_adopted_total", factory: f)
        droppedCounter = CoreMetrics.Counter(label: "hexfleet_cluster_orders_dropped_total", factory: f)
    }

    /// Hears, on the loop, the partitions this engine gained and lost in each round that changed them.
    func onPartitionsChanged(_ listener: @escaping (_ gained: [H3Cell], _ lost: [H3Cell]) -> Void) {
        listeners.append(listener)
    }

    func start() throws {
        let wakeup = try AsyncWakeup<LeaseView>(loop: loop) { [unowned self] view in self.apply(view) }
        wakeup.keepsLoopAlive = false
        self.wakeup = wakeup
        let sender = wakeup.sender
        keeper.start { view in _ = sender.send(view) }
    }

    func tick(nowMs: Int64) {
        guard nowMs - lastScanMs >= scanIntervalMs else { return }
        lastScanMs = nowMs
        keeper.want(seenPartitions())
        let retry = unloaded.filter { directory.owned[$0] != nil }.sorted()
        unloaded.removeAll()
        if !retry.isEmpty { load(retry) }
    }

    /// Releases the leases once the orders store has written everything queued (their writes need the leases).
    func stop() {
        orders.store.flush()
        keeper.stop()
        wakeup?.close()
        wakeup = nil
    }

    /// The partitions of every driver in the live table: its occupied cells' parents (a pass over the cell
    /// buckets, no H3 and no hash look-up per driver; stale drivers are evicted by ingest's sweep).
    private func seenPartitions() -> Set<Int64> {
        var partitions: Set<Int64> = []
        for cell in table.occupiedCells() {
            let p = directory.partition(of: H3Cell(rawValue: cell))
            partitions.insert(Int64(bitPattern: p.rawValue))
        }
        return partitions
    }

    private func apply(_ view: LeaseView) {
        let (gained, lost) = directory.apply(view)
        heldGauge.record(directory.owned.count)
        nodesGauge.record(directory.liveNodes.count)
        guard !gained.isEmpty || !lost.isEmpty else { return }
        gainedCounter.increment(by: gained.count)
        lostCounter.increment(by: lost.count)
        logger.info("partitions changed", metadata: ["gained": "\(gained.count)", "lost": "\(lost.count)",
                                                      "held": "\(directory.owned.count)"])
        if !lost.isEmpty {
            let lostSet = Set(lost)
            unloaded.subtract(lostSet)
            let resolution = directory.resolution
            let dropped = orders.drop { pickup in
                lostSet.contains(H3Cell(rawValue: UInt64(bitPattern: LeaseKeeper.partition(of: pickup.latLng, resolution: resolution))))
            }
            ordersDropped += dropped
            droppedCounter.increment(by: dropped)
        }
        if !gained.isEmpty { load(gained) }
        for listener in listeners { listener(gained, lost) }
    }

    /// Reads the gained partitions' live orders on a worker, then adopts those whose partition is still held
    /// under the same epoch (a partition lost again meanwhile is skipped).
    private func load(_ partitions: [H3Cell]) {
        let epochs = partitions.map { ($0, directory.owned[$0]) }
        let ids = partitions.map { Int64(bitPattern: $0.rawValue) }
        let store = self.store
        do {
            try workers.run(ids, { ids in Result { () throws(StorageError) in try store.liveOrders(inPartitions: ids) } }) {
                [weak self] result in
                guard let self else { return }
                switch result {
                case .success(let records):
                    let stillHeld = Set(epochs.filter { self.directory.owned[$0.0] == $0.1 }.map(\.0))
                    let resolution = self.directory.resolution
                    let kept = records.filter {
                        stillHeld.contains(H3Cell(rawValue: UInt64(bitPattern: LeaseKeeper.partition(of: $0.pickup.latLng, resolution: resolution))))
                    }
                    let adopted = self.orders.adopt(kept, reason: "failover")
                    self.ordersAdopted += adopted
                    self.adoptedCounter.increment(by: adopted)
                case .failure(let error):
                    self.unloaded.formUnion(partitions)
                    self.logger.error("could not load a gained partition's orders; trying again", metadata: ["error": "\(error)"])
                }
            }
        } catch {
            unloaded.formUnion(partitions)
            logger.error("no worker to load a gained partition's orders; trying again", metadata: ["error": "\(error)"])
        }
    }
}

import EventLoop
import FleetIndex
import HexGeo
import Vocabulary

/// The edge half of region shards (docs/cluster.md): routes each checked record to the shard owning its partition,
/// batches what goes elsewhere per owner, and keeps every driver on exactly one shard.
///
/// One shard holds a driver: the one that took its newest fix. A shard that takes a driver it did not hold claims
/// it (driver, timestamp) to every other live shard; a shard holding that driver with an older fix lets it go and
/// remembers the claim's timestamp (a hand-off mark), so a replayed older ping is refused there too; one holding
/// a newer fix claims it back. An edge holding a driver whose new fix lies in another shard's partition lets it go
/// itself, and the record carries the newest timestamp to the new owner. Loop-owned.
final class PingForwarder: PingRouter {
    /// What goes out, and what came in; read by the metrics.
    struct Counters {
        var forwardedRecords: UInt64 = 0
        var forwardedMessages: UInt64 = 0
        var receivedRecords: UInt64 = 0
        var receivedTaken: UInt64 = 0
        var claimsSent: UInt64 = 0
        var claimsReceived: UInt64 = 0
        var handedOff: UInt64 = 0
        var malformed: UInt64 = 0
        var publishFailures: UInt64 = 0
    }

    let directory: any PartitionDirectory
    private let table: DriverTable
    private let publish: (String, UnsafeRawBufferPointer) -> Bool
    private let loop: Loop
    /// Records per message at most; a batch that fills goes at once.
    let batchRecords: Int
    /// A batch waits at most this long for more records.
    let flushMs: UInt64
    /// Records older than this behind the clock are dropped as `skew` anyway, so hand-off marks older than it go.
    let markRetentionMs: Int64
    private(set) var counters = Counters()
    /// Called with a partition nobody owns when a record for it is taken here (the lease directory claims it).
    var onUnownedPartition: ((H3Cell) -> Void)?

    /// Outgoing records per (owner, transport).
    private var batches: [BatchKey: [UInt8]] = [:]
    private var claims: [ClusterWire.Claim] = []
    /// Drivers this shard let go, with the newest timestamp known at the time: older fixes are replays.
    private var handOffMarks: [DriverID: Int64] = [:]
    private var flushTimer: EventLoop.Timer?
    private var flushArmed = false

    private struct BatchKey: Hashable {
        var owner: String
        var transport: PingTransport
    }

    /// A router for `directory` writing to `table`; `publish` sends a message on a subject (the cluster bus).
    init(directory: any PartitionDirectory, table: DriverTable, loop: Loop, batchRecords: Int, flushMs: UInt64,
         markRetentionMs: Int64, publish: @escaping (String, UnsafeRawBufferPointer) -> Bool) {
        self.directory = directory
        self.table = table
        self.loop = loop
        self.batchRecords = max(1, batchRecords)
        self.flushMs = flushMs
        self.markRetentionMs = markRetentionMs
        self.publish = publish
    }

    /// The owner of the partition a position falls in (nil: nobody) and that partition.
    func owner(latE7: Int32, lngE7: Int32) -> (owner: String?, partition: H3Cell)? {
        let point = LatLng(degrees: Double(latE7) / 1e7, Double(lngE7) / 1e7)
        guard let cell = try? H3.latLngToCell(point, resolution: directory.resolution) else { return nil }
        let partition = directory.partition(of: cell)
        return (directory.owner(of: partition), partition)
    }

    func route(_ r: PingRecord, transport: PingTransport, relayed: Bool) -> PingRoute {
        let id = DriverID(r.driverID)
        if !relayed, let (owner, partition) = owner(latE7: r.latE7, lngE7: r.lngE7), owner != directory.node {
            guard let owner else {
                onUnownedPartition?(partition)
                return admitLocally(id, r.timestampMs)
            }
            if let last = table.lastTimestampMs(of: id) {
                // Held here and moving into another shard's partition: it goes with this newer fix.
                guard r.timestampMs > last else { return .replay }
                table.remove(id)
                handOffMarks[id] = r.timestampMs
                counters.handedOff &+= 1
            } else if let mark = handOffMarks[id], r.timestampMs <= mark {
                return .replay
            }
            enqueue(r, to: owner, transport: transport)
            return .forwarded
        }
        return admitLocally(id, r.timestampMs)
    }

    /// A record for this table: refused when this shard let the driver go at a newer or equal timestamp.
    private func admitLocally(_ id: DriverID, _ timestampMs: Int64) -> PingRoute {
        guard !handOffMarks.isEmpty, let mark = handOffMarks[id] else { return .local }
        guard timestampMs > mark else { return .replay }
        handOffMarks[id] = nil
        return .local
    }

    /// The table took a driver it did not hold: tell the other shards (batched with the next flush).
    func tookNewDriver(_ id: DriverID) {
        guard directory.liveNodes.count > 1, let ts = table.lastTimestampMs(of: id) else { return }
        claims.append(ClusterWire.Claim(driver: id, timestampMs: ts))
        armFlush()
    }

    /// Another shard's claims: let go of the drivers it holds newer fixes of; claim back those held newer here.
    func received(claims incoming: [ClusterWire.Claim], from node: String) {
        counters.claimsReceived &+= UInt64(incoming.count)
        for claim in incoming {
            if let mine = table.lastTimestampMs(of: claim.driver) {
                if mine < claim.timestampMs || (mine == claim.timestampMs && node < directory.node) {
                    table.remove(claim.driver)
                    handOffMarks[claim.driver] = claim.timestampMs
                    counters.handedOff &+= 1
                } else {
                    claims.append(ClusterWire.Claim(driver: claim.driver, timestampMs: mine))
                    armFlush()
                }
            } else if let mark = handOffMarks[claim.driver], mark < claim.timestampMs {
                handOffMarks[claim.driver] = claim.timestampMs
            }
        }
    }

    /// Counts records another shard forwarded here.
    func countReceived(records: Int, taken: Int) {
        counters.receivedRecords &+= UInt64(records)
        counters.receivedTaken &+= UInt64(taken)
    }

    func countMalformed() { counters.malformed &+= 1 }

    private func enqueue(_ r: PingRecord, to owner: String, transport: PingTransport) {
        let key = BatchKey(owner: owner, transport: transport)
        var buffer = batches.removeValue(forKey: key) ?? []
        if buffer.isEmpty {
            buffer.reserveCapacity(ClusterWire.headerBytes + batchRecords * PingWire.recordBytes)
            ClusterWire.beginRecords(&buffer, transport: transport)
        }
        ClusterWire.appendRecord(r, to: &buffer)
        counters.forwardedRecords &+= 1
        if (buffer.count - ClusterWire.headerBytes) / PingWire.recordBytes >= batchRecords {
            send(&buffer, to: owner)
        } else {
            armFlush()
        }
        batches[key] = buffer
    }

    private func send(_ buffer: inout [UInt8], to owner: String) {
        ClusterWire.finishRecords(&buffer)
        let ok = buffer.withUnsafeBytes { publish(ClusterWire.pingSubject(owner), $0) }
        if ok { counters.forwardedMessages &+= 1 } else { counters.publishFailures &+= 1 }
        buffer.removeAll(keepingCapacity: true)
    }

    private func armFlush() {
        guard !flushArmed else { return }
        if flushTimer == nil { flushTimer = try? EventLoop.Timer(loop: loop) }
        guard let flushTimer else { flush(); return }
        flushArmed = true
        do {
            try flushTimer.start(afterMs: flushMs) { [unowned self] in self.flush() }
        } catch {
            flushArmed = false
            flush()
        }
    }

    /// Sends every batch and the claims now.
    func flush() {
        flushArmed = false
        for key in Array(batches.keys) {
            guard var buffer = batches[key], buffer.count > ClusterWire.headerBytes else { continue }
            send(&buffer, to: key.owner)
            batches[key] = buffer
        }
        if !claims.isEmpty {
            let message = ClusterWire.claims(claims, from: directory.node)
            for node in directory.liveNodes where node != directory.node {
                let ok = message.withUnsafeBytes { publish(ClusterWire.pingSubject(node), $0) }
                if !ok { counters.publishFailures &+= 1 }
            }
            counters.claimsSent &+= UInt64(claims.count)
            claims.removeAll(keepingCapacity: true)
        }
    }

    /// Forgets hand-off marks too old to matter (their records would be dropped as `skew`).
    func sweep(nowMs: Int64) {
        guard !handOffMarks.isEmpty else { return }
        let cutoff = nowMs - markRetentionMs
        handOffMarks = handOffMarks.filter { $0.value >= cutoff }
    }

    /// Hand-off marks held now.
    var handOffMarkCount: Int { handOffMarks.count }

    func close() {
        flush()
        flushTimer?.close()
        flushTimer = nil
    }
}

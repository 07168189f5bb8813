import EventLoop
import FleetIndex

/// Why a datagram or record was dropped; `label` is the `reason` label of `hexfleet_udp_dropped_total`.
public enum DropReason: Int, CaseIterable, Sendable {
    case truncated, version, badTag, foreignDriver, range, replay, skew

    /// The metric label, as on the wire.
    public var label: String {
        switch self {
        case .truncated: "truncated"
        case .version: "version"
        case .badTag: "bad_tag"
        case .foreignDriver: "foreign_driver"
        case .range: "range"
        case .replay: "replay"
        case .skew: "skew"
        }
    }
}

/// How a ping arrived; `label` is the `transport` label of `hexfleet_pings_accepted_total`.
public enum PingTransport: Int, CaseIterable, Sendable {
    case udp, ws, http
    public var label: String { ["udp", "ws", "http"][rawValue] }
}

/// Plain per-loop counters; the metrics exporter reads and flushes them once per tick, so the hot path
/// pays one add per event.
public struct IngestCounters: Sendable {
    public var accepted = [UInt64](repeating: 0, count: PingTransport.allCases.count)
    public var dropped = [UInt64](repeating: 0, count: DropReason.allCases.count)
    public var datagrams: UInt64 = 0
    /// The engine clock (Unix ms) when the last UDP datagram arrived; 0 before the first.
    public var lastDatagramMs: Int64 = 0
    /// Drops not tied to UDP (WebSocket, HTTP) are counted here by reason, so `hexfleet_udp_dropped_total`
    /// stays about UDP alone.
    public var droppedOther = [UInt64](repeating: 0, count: DropReason.allCases.count)
}

/// The ingest pipeline: validates datagrams and records and writes accepted fixes into the `DriverTable`.
///
/// ```
/// socket → header (layout) → signer key (cache) → tag → for each record:
///     foreign driver? → range → skew → table.upsert (replay) → onAccepted
/// ```
/// Loop-owned. Allocates nothing per datagram once a signer's key is cached.
public final class PingIngest {
    public let table: DriverTable
    private let keys: PingKeys
    /// Records newer than now + this are dropped as `skew`.
    public var maxAheadMs: Int64 = 30_000
    /// Records older than now − this are dropped as `skew`.
    public var maxBehindMs: Int64 = 600_000
    public private(set) var counters = IngestCounters()
    /// Called for every accepted record, after the table took it (the tracking hub and live speeds listen).
    public var acceptedListeners: [(DriverState, PingTransport) -> Void] = []

    private var keyCache: SignerKeyCache

    /// A pipeline writing into `table`, verifying tags with keys derived from `keys`.
    public init(table: DriverTable, keys: PingKeys, keyCacheSize: Int = 1 << 16) {
        self.table = table
        self.keys = keys
        self.keyCache = SignerKeyCache(capacity: keyCacheSize)
    }

    /// Driver ids of the window being warmed (`warm(_:)`), allocated once. At most this many records are warmed
    /// per window: what they pull in (about a dozen cache lines each) must still be in cache when they are
    /// processed, and a window of 32 gateway datagrams holds 1,280 records, whose dozen lines each would not fit.
    private let warmIDs = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 64)
    /// Keeps `warm`'s loads alive (a value nobody reads).
    private var warmSink: UInt64 = 0

    deinit { warmIDs.deallocate() }

    /// Before a receive batch is ingested one datagram at a time: touches each signer's key-cache slot and the table
    /// rows of the drivers named in the records, so that their cache misses overlap across the batch instead of
    /// stalling each datagram in turn (`DriverTable.warm`). Reads only; a malformed datagram is skipped here and
    /// dropped by `ingestDatagram` as usual.
    public func warm(_ batch: UDPBatch) {
        var n = 0
        let capacity = warmIDs.count
        batch.forEach { d in
            guard n < capacity, d.count >= PingWire.headerBytes + PingWire.recordBytes + PingWire.tagBytes else { return }
            let signer = UInt64(littleEndian: d.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            warmSink &+= keyCache.touch(signer: signer, gateway: d[1] & 1 != 0)
            var o = PingWire.headerBytes
            while o + PingWire.recordBytes + PingWire.tagBytes <= d.count && n < capacity {
                warmIDs[n] = UInt64(littleEndian: d.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                n += 1
                o += PingWire.recordBytes
            }
        }
        warmSink &+= table.warm(UnsafeBufferPointer(rebasing: warmIDs[0..<n]))
    }

    /// Takes one datagram straight from the receive buffer. Every outcome is counted.
    public func ingestDatagram(_ d: UnsafeRawBufferPointer, nowMs: Int64) {
        counters.datagrams &+= 1
        counters.lastDatagramMs = nowMs
        let header: PingHeader
        do { header = try PingWire.header(d) } catch {
            counters.dropped[error == .truncated ? DropReason.truncated.rawValue : DropReason.version.rawValue] &+= 1
            return
        }
        let prepared = keyCache.hmac(signer: header.signerID, gateway: header.isGatewaySigned, keys: keys)
        guard PingTag.verify(d, prepared: prepared) else {
            counters.dropped[DropReason.badTag.rawValue] &+= 1
            return
        }
        // Accepted records are tallied locally and added once: one counter write per datagram, not per record.
        var accepted: UInt64 = 0
        let listeners = acceptedListeners
        for i in 0..<header.recordCount {
            let r = PingWire.record(d, i)
            if !header.isGatewaySigned && r.driverID != header.signerID {
                counters.dropped[DropReason.foreignDriver.rawValue] &+= 1
                continue
            }
            if let reason = accept(r, transport: .udp, nowMs: nowMs, listeners: listeners) {
                counters.dropped[reason.rawValue] &+= 1
            } else {
                accepted &+= 1
            }
        }
        counters.accepted[PingTransport.udp.rawValue] &+= accepted
    }

    /// Takes one record that arrived over an authenticated channel (WebSocket, HTTP): the same checks
    /// minus the tag. Returns nil when accepted, else the drop reason (also counted).
    @discardableResult
    public func ingest(_ r: PingRecord, transport: PingTransport, nowMs: Int64) -> DropReason? {
        let reason = accept(r, transport: transport, nowMs: nowMs, listeners: acceptedListeners)
        if let reason { counters.droppedOther[reason.rawValue] &+= 1 } else { counters.accepted[transport.rawValue] &+= 1 }
        return reason
    }

    /// The record checks after the tag; nil when the table took the fix (the caller counts it).
    @inline(__always)
    private func accept(_ r: PingRecord, transport: PingTransport, nowMs: Int64,
                        listeners: [(DriverState, PingTransport) -> Void]) -> DropReason? {
        guard r.isInRange else { return .range }
        guard r.timestampMs <= nowMs &+ maxAheadMs && r.timestampMs >= nowMs &- maxBehindMs else { return .skew }
        let state = r.driverState
        guard table.upsert(state) != .replay else { return .replay }
        for listener in listeners { listener(state, transport) }
        return nil
    }
}

/// A direct-mapped cache of prepared keys per signer. A miss derives the key (one HMAC from the secret's
/// precomputed pads) and prepares it (two SHA-256 blocks): four compressions, about as much as the tag check itself;
/// a hit costs one compare.
struct SignerKeyCache {
    /// Signer id with the kind in the top bit (driver and gateway ids are separate spaces); `empty` marks a free slot.
    private var tags: [UInt64]
    private var entries: [PreparedHMAC]
    private let mask: Int
    private static let gatewayBit: UInt64 = 1 << 63
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        tags = [UInt64](repeating: Self.empty, count: size)
        entries = [PreparedHMAC](repeating: PreparedHMAC(key: []), count: size)
        mask = size - 1
    }

    /// A value read from the signer's slot (see `PingIngest.warm`).
    @inline(__always)
    func touch(signer: UInt64, gateway: Bool) -> UInt64 {
        let i = Int(truncatingIfNeeded: (signer &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        return tags[i] &+ entries[i].touchValue
    }

    @inline(__always)
    mutating func hmac(signer: UInt64, gateway: Bool, keys: PingKeys) -> PreparedHMAC {
        let i = Int(truncatingIfNeeded: (signer &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        // Ids with the top bit set never hit (the tag could not tell the kinds apart) and are derived every time.
        let tag = signer | (gateway ? Self.gatewayBit : 0)
        if tags[i] == tag && signer & Self.gatewayBit == 0 { return entries[i] }
        let h = gateway ? keys.preparedGateway(signer) : keys.preparedDriver(signer)
        tags[i] = tag
        entries[i] = h
        return h
    }
}

extension PingIngest {
    /// Counts a datagram the kernel truncated (larger than the receive buffer) as `truncated`.
    public func countTruncated() { counters.datagrams &+= 1; counters.dropped[DropReason.truncated.rawValue] &+= 1 }
}

import Crypto
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

    /// Takes one datagram straight from the receive buffer. Every outcome is counted.
    public func ingestDatagram(_ d: UnsafeRawBufferPointer, nowMs: Int64) {
        counters.datagrams &+= 1
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

/// A direct-mapped cache of keyed HMACs per signer: deriving a key costs two HMACs and keying one a key schedule;
/// a hit costs one compare, and the cached HMAC is copied per datagram.
struct SignerKeyCache {
    private var signers: [UInt64]
    private var isGateway: [Bool]
    private var entries: [HMAC<SHA256>?]
    private let mask: Int

    init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        signers = [UInt64](repeating: 0, count: size)
        isGateway = [Bool](repeating: false, count: size)
        entries = [HMAC<SHA256>?](repeating: nil, count: size)
        mask = size - 1
    }

    mutating func hmac(signer: UInt64, gateway: Bool, keys: PingKeys) -> HMAC<SHA256> {
        let i = Int(truncatingIfNeeded: (signer &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        // Drivers and gateways have separate id spaces: the kind is part of the cache tag.
        if signers[i] == signer && isGateway[i] == gateway, let h = entries[i] { return h }
        let h = HMAC<SHA256>(key: gateway ? keys.gatewayKey(signer) : keys.driverKey(signer))
        signers[i] = signer
        isGateway[i] = gateway
        entries[i] = h
        return h
    }
}

extension PingIngest {
    /// Counts a datagram the kernel truncated (larger than the receive buffer) as `truncated`.
    public func countTruncated() { counters.datagrams &+= 1; counters.dropped[DropReason.truncated.rawValue] &+= 1 }
}

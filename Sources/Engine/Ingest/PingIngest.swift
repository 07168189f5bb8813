import EventLoop
import FleetIndex
import Vocabulary

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
/// A receive window (`ingestWindow`) takes those steps a stage at a time across its datagrams: the keys it lacks
/// are derived and the tags checked two at a time (`PreparedHMAC`'s paired block function), and the table rows its
/// records will update are loaded before the first is written, so their cache misses overlap.
/// Loop-owned. Allocates nothing per datagram.
public final class PingIngest {
    public let table: DriverTable
    private let keys: PingKeys
    /// Records newer than now + this are dropped as `skew`.
    public var maxAheadMs: Int64 = 30_000
    /// Records older than now − this are dropped as `skew`; the table remembers an evicted driver's last fix as
    /// long, so a replay of it is still a `replay`.
    public var maxBehindMs: Int64 = 600_000 { didSet { table.replayMemoryMs = maxBehindMs } }
    public private(set) var counters = IngestCounters()
    /// Called with accepted records, after the table took them, in arrival order (the tracking hub and live speeds
    /// listen): once per receive window with all of its accepted records, once per record from the other paths. A
    /// call per record cost a retain and a release of each listener's context per record.
    public var acceptedListeners: [(UnsafeBufferPointer<DriverState>, PingTransport) -> Void] = []
    /// Called with a driver the table did not hold before this record (a first sighting since start or since the
    /// stale sweep evicted it), before the record's window reaches `acceptedListeners` (fences set state silently).
    public var insertedListeners: [(DriverID) -> Void] = []
    /// Called like `acceptedListeners`, with where each of those drivers was before (`PreviousFix.none` for one the
    /// table did not hold): the fence detector needs the previous fix, which the upsert has in cache.
    public var movedListeners: [(UnsafeBufferPointer<DriverState>, UnsafeBufferPointer<PreviousFix>, PingTransport) -> Void] = []
    /// Decides, in a cluster, whether a record that passed the checks goes into this table or to another shard
    /// (docs/cluster.md); nil on one node.
    var router: (any PingRouter)?
    /// Set while records another shard forwarded are taken (`ingestRelayed`): they are not routed again.
    private var relaying = false
    /// The accepted records of the window being ingested, handed to the listeners when it ends (or fills).
    private let acceptedStates = UnsafeMutableBufferPointer<DriverState>.allocate(capacity: PingIngest.acceptedBatch)
    private let acceptedPrevious = UnsafeMutableBufferPointer<PreviousFix>.allocate(capacity: PingIngest.acceptedBatch)
    private var acceptedCount = 0
    /// Accepted records held before the listeners hear of them at most.
    static let acceptedBatch = 4_096

    private let keyCache: SignerKeyCache
    private let window = WindowScratch(capacity: PingIngest.windowCapacity)

    /// Datagrams one window stage works on; a longer batch is taken in windows of this many.
    static let windowCapacity = 64
    /// Records whose table rows are loaded ahead per window. What each pulls in (about a dozen cache lines) must
    /// still be in cache when it is processed; a window of gateway datagrams holds thousands of records.
    static let warmRecords = 64

    /// A pipeline writing into `table`, verifying tags with keys derived from `keys`.
    public init(table: DriverTable, keys: PingKeys, keyCacheSize: Int = 1 << 16) {
        self.table = table
        self.keys = keys
        self.keyCache = SignerKeyCache(capacity: keyCacheSize)
        table.replayMemoryMs = maxBehindMs
        acceptedStates.initialize(repeating: DriverState(id: DriverID(0), latE7: 0, lngE7: 0, timestampMs: 0, status: .offline))
    }

    deinit {
        acceptedStates.deallocate()
        acceptedPrevious.deallocate()
    }

    /// Takes a window of received datagrams (truncated ones included, counted as `truncated`), in arrival order:
    /// the same outcomes and counts as `ingestDatagram` on each in turn.
    public func ingestWindow(_ batch: UDPBatch, nowMs: Int64) {
        let all = batch.datagrams
        var from = 0
        while from < all.count {
            let to = min(all.count, from + Self.windowCapacity)
            ingestWindowChunk(UnsafeBufferPointer(rebasing: all[from..<to]), nowMs: nowMs)
            from = to
        }
    }

    private func ingestWindowChunk(_ datagrams: UnsafeBufferPointer<UDPDatagram>, nowMs: Int64) {
        guard !datagrams.isEmpty else { return }
        let listed = window.listed, missing = window.missing
        counters.datagrams &+= UInt64(datagrams.count)
        counters.lastDatagramMs = nowMs
        // 1. Layout and cached keys; the signers whose key is missing are listed once each. The window's cache slots
        // are read first, in a loop of independent loads, so their misses overlap instead of stalling one by one.
        for d in datagrams where d.bytes.count >= 16 {
            warmSink &+= keyCache.touch(signer: UInt64(littleEndian: d.bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        var laidOut = 0, misses = 0
        for d in datagrams {
            if d.isTruncated {
                counters.dropped[DropReason.truncated.rawValue] &+= 1
                continue
            }
            guard let header = layout(d.bytes) else { continue }
            let signer = header.signerID, gateway = header.isGatewaySigned
            listed[laidOut].bytes = d.bytes
            listed[laidOut].header = header
            if let key = keyCache.cached(signer: signer, gateway: gateway) {
                listed[laidOut].key = key
                listed[laidOut].missing = -1
            } else {
                var m = 0
                while m < misses && (missing[m].signer != signer || missing[m].gateway != gateway) { m += 1 }
                if m == misses {
                    missing[m].signer = signer   // its key is derived in stage 2
                    missing[m].gateway = gateway
                    misses += 1
                }
                listed[laidOut].missing = Int32(m)
            }
            laidOut += 1
        }
        // 2. Missing keys, derived two at a time, then cached.
        var m = 0
        while m + 1 < misses {
            (missing[m].key, missing[m + 1].key) = keys.preparedPair(missing[m].signer, gateway: missing[m].gateway,
                                                                      missing[m + 1].signer, gateway: missing[m + 1].gateway)
            m += 2
        }
        if m < misses { missing[m].key = keys.prepared(missing[m].signer, gateway: missing[m].gateway) }
        for m in missing[0..<misses] { keyCache.store(m.key, signer: m.signer, gateway: m.gateway) }
        for c in 0..<laidOut where listed[c].missing >= 0 { listed[c].key = missing[Int(listed[c].missing)].key }
        // 3. Tags, two at a time; the datagrams that pass stay listed, in order.
        var passed = 0, c = 0
        while c < laidOut {
            let ok: (Bool, Bool)
            if c + 1 < laidOut {
                ok = PingTag.verifyPair(listed[c].bytes, prepared: listed[c].key, listed[c + 1].bytes, prepared: listed[c + 1].key)
            } else {
                ok = (PingTag.verify(listed[c].bytes, prepared: listed[c].key), false)
            }
            for i in c..<min(c + 2, laidOut) {
                if i == c ? ok.0 : ok.1 {
                    listed[passed] = listed[i]
                    passed += 1
                } else {
                    counters.dropped[DropReason.badTag.rawValue] &+= 1
                }
            }
            c += 2
        }
        // 4. The table rows the records will touch, loaded together.
        let warmIDs = window.warmIDs
        var warmed = 0
        for d in listed[0..<passed] where warmed < warmIDs.count {
            for r in 0..<min(d.header.recordCount, warmIDs.count - warmed) {
                warmIDs[warmed] = PingWire.driverID(d.bytes, r)
                warmed += 1
            }
        }
        warmSink &+= table.warm(UnsafeBufferPointer(rebasing: warmIDs[0..<warmed]))
        // 5. Records.
        var accepted: UInt64 = 0
        for d in listed[0..<passed] { accepted &+= acceptRecords(d.bytes, d.header, nowMs: nowMs) }
        counters.accepted[PingTransport.udp.rawValue] &+= accepted
        tellListeners(.udp)
    }

    /// The header of a datagram whose layout is valid; nil (counted as `truncated` or `version`) otherwise.
    @inline(__always)
    private func layout(_ d: UnsafeRawBufferPointer) -> PingHeader? {
        do { return try PingWire.header(d) } catch {
            counters.dropped[error == .truncated ? DropReason.truncated.rawValue : DropReason.version.rawValue] &+= 1
            return nil
        }
    }

    /// Keeps `warm`'s loads alive (a value nobody reads).
    private var warmSink: UInt64 = 0

    /// Takes one datagram straight from the receive buffer. Every outcome is counted.
    public func ingestDatagram(_ d: UnsafeRawBufferPointer, nowMs: Int64) {
        counters.datagrams &+= 1
        counters.lastDatagramMs = nowMs
        guard let header = layout(d) else { return }
        let prepared: PreparedHMAC
        if let key = keyCache.cached(signer: header.signerID, gateway: header.isGatewaySigned) {
            prepared = key
        } else {
            prepared = keys.prepared(header.signerID, gateway: header.isGatewaySigned)
            keyCache.store(prepared, signer: header.signerID, gateway: header.isGatewaySigned)
        }
        guard PingTag.verify(d, prepared: prepared) else {
            counters.dropped[DropReason.badTag.rawValue] &+= 1
            return
        }
        counters.accepted[PingTransport.udp.rawValue] &+= acceptRecords(d, header, nowMs: nowMs)
        tellListeners(.udp)
    }

    /// The records of a datagram whose tag checked out; returns how many the table took (the caller counts them,
    /// so that a datagram costs one counter write, not one per record). Drops are counted here.
    @inline(__always)
    private func acceptRecords(_ d: UnsafeRawBufferPointer, _ header: PingHeader, nowMs: Int64) -> UInt64 {
        var accepted: UInt64 = 0
        for i in 0..<header.recordCount {
            let r = PingWire.record(d, i)
            if !header.isGatewaySigned && r.driverID != header.signerID {
                counters.dropped[DropReason.foreignDriver.rawValue] &+= 1
                continue
            }
            if let reason = accept(r, transport: .udp, nowMs: nowMs) {
                counters.dropped[reason.rawValue] &+= 1
            } else {
                accepted &+= 1
            }
        }
        return accepted
    }

    /// Takes one record that arrived over an authenticated channel (WebSocket, HTTP): the same checks
    /// minus the tag. Returns nil when accepted, else the drop reason (also counted).
    @discardableResult
    public func ingest(_ r: PingRecord, transport: PingTransport, nowMs: Int64) -> DropReason? {
        let reason = accept(r, transport: transport, nowMs: nowMs)
        if let reason { counters.droppedOther[reason.rawValue] &+= 1 } else { counters.accepted[transport.rawValue] &+= 1 }
        tellListeners(transport)
        return reason
    }

    /// Takes records another shard's edge checked and forwarded (bare 32-byte records, docs/cluster.md): the range,
    /// skew and replay checks again, no tag, no routing. Neither accepted nor dropped records count in `counters`
    /// (the edge counted them); returns how many the table took.
    func ingestRelayed(_ records: UnsafeRawBufferPointer, transport: PingTransport, nowMs: Int64) -> Int {
        relaying = true
        defer { relaying = false }
        var taken = 0
        var at = 0
        while at + PingWire.recordBytes <= records.count {
            if accept(PingWire.record(at: at, in: records), transport: transport, nowMs: nowMs) == nil { taken += 1 }
            at += PingWire.recordBytes
        }
        tellListeners(transport)
        return taken
    }

    /// The record checks after the tag; nil when the table took the fix (the caller counts it, and
    /// `tellListeners` hands it on) or, in a cluster, the router sent it to the shard that owns its place.
    @inline(__always)
    private func accept(_ r: PingRecord, transport: PingTransport, nowMs: Int64) -> DropReason? {
        guard r.isInRange else { return .range }
        guard r.timestampMs <= nowMs &+ maxAheadMs && r.timestampMs >= nowMs &- maxBehindMs else { return .skew }
        if let router {
            switch router.route(r, transport: transport, relayed: relaying) {
            case .local: break
            case .forwarded: return nil
            case .replay: return .replay
            }
        }
        let state = r.driverState
        var previous = PreviousFix.none
        let outcome = table.upsert(state, previous: &previous)
        guard outcome != .replay else { return .replay }
        if outcome == .inserted { for listener in insertedListeners { listener(state.id) } }
        if acceptedCount == acceptedStates.count { tellListeners(.udp) }
        acceptedStates[acceptedCount] = state
        acceptedPrevious[acceptedCount] = previous
        acceptedCount += 1
        return nil
    }

    /// Hands the accepted records held so far to every listener, then forgets them. Listeners must not ingest
    /// (the buffer they are reading is the one ingest writes).
    private func tellListeners(_ transport: PingTransport) {
        guard acceptedCount > 0 else { return }
        let states = UnsafeBufferPointer(rebasing: acceptedStates[0..<acceptedCount])
        let previous = UnsafeBufferPointer(rebasing: acceptedPrevious[0..<acceptedCount])
        acceptedCount = 0
        for listener in acceptedListeners { listener(states, transport) }
        for listener in movedListeners { listener(states, previous, transport) }
    }
}

/// Where a record that passed the edge's checks goes (`PingRouter`).
enum PingRoute {
    /// Into this engine's table (it owns the record's partition, or nobody does).
    case local
    /// Sent to the shard that owns the record's partition.
    case forwarded
    /// Dropped as `replay`: not newer than the driver's last fix known here (held, or handed off).
    case replay
}

/// Decides per record, in a cluster, which shard takes it (docs/cluster.md). Loop-owned.
protocol PingRouter: AnyObject {
    /// Routes a record that passed range and skew checks; `relayed` when another shard forwarded it here (it is
    /// then never forwarded again).
    func route(_ r: PingRecord, transport: PingTransport, relayed: Bool) -> PingRoute
}

/// A datagram of a window whose layout is valid: its header, its signer's key, and (before keys are derived) the
/// index of its signer among the window's missing keys, or -1 when the key was cached.
private struct ListedDatagram {
    var bytes: UnsafeRawBufferPointer
    var header: PingHeader
    var key: PreparedHMAC
    var missing: Int32
}

/// A signer of a window whose key was not cached, listed once however many of its datagrams the window holds.
private struct MissingKey {
    var signer: UInt64
    var gateway: Bool
    var key: PreparedHMAC
}

/// Per-window working lists of `PingIngest.ingestWindow`, allocated once.
private final class WindowScratch {
    let listed: UnsafeMutableBufferPointer<ListedDatagram>
    let missing: UnsafeMutableBufferPointer<MissingKey>
    let warmIDs: UnsafeMutableBufferPointer<UInt64>

    init(capacity: Int) {
        // Trivial types: initialized once so every later write is a plain assignment.
        let noKey = PreparedHMAC(key: [])
        listed = .allocate(capacity: capacity)
        listed.initialize(repeating: ListedDatagram(bytes: UnsafeRawBufferPointer(start: nil, count: 0),
                                                    header: PingHeader(flags: 0, recordCount: 0, signerID: 0), key: noKey,
                                                    missing: -1))
        missing = .allocate(capacity: capacity)
        missing.initialize(repeating: MissingKey(signer: 0, gateway: false, key: noKey))
        warmIDs = .allocate(capacity: PingIngest.warmRecords)
        warmIDs.initialize(repeating: 0)
    }

    deinit {
        listed.deallocate()
        missing.deallocate()
        warmIDs.deallocate()
    }
}

/// A direct-mapped cache of prepared keys per signer. A miss derives the key (one HMAC from the secret's
/// precomputed pads) and prepares it (two SHA-256 blocks): four compressions, twice the tag check of a one-record
/// datagram; a hit costs one compare.
final class SignerKeyCache {
    /// Signer id with the kind in the top bit (driver and gateway ids are separate spaces); `empty` marks a free slot.
    private let tags: UnsafeMutablePointer<UInt64>
    private let entries: UnsafeMutablePointer<PreparedHMAC>
    private let mask: Int
    private static let gatewayBit: UInt64 = 1 << 63
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        tags = .allocate(capacity: size)
        tags.initialize(repeating: Self.empty, count: size)
        entries = .allocate(capacity: size)
        entries.initialize(repeating: PreparedHMAC(key: []), count: size)
        mask = size - 1
    }

    deinit {
        tags.deallocate()
        entries.deallocate()
    }

    @inline(__always)
    private func slot(_ signer: UInt64) -> Int {
        Int(truncatingIfNeeded: (signer &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// The signer's cached key, or nil. Ids with the top bit set never hit (the slot's tag could not tell the two
    /// kinds apart), so they are derived every time.
    @inline(__always)
    func cached(signer: UInt64, gateway: Bool) -> PreparedHMAC? {
        let i = slot(signer)
        guard tags[i] == signer | (gateway ? Self.gatewayBit : 0) && signer & Self.gatewayBit == 0 else { return nil }
        return entries[i]
    }

    /// A value read from the signer's slot (tag and key), so that a later look-up finds it in cache.
    @inline(__always)
    func touch(signer: UInt64) -> UInt64 {
        let i = slot(signer)
        return tags[i] &+ UnsafeRawPointer(entries + i).load(as: UInt64.self)
    }

    /// Caches a signer's key, replacing whatever shared its slot. Ids with the top bit set are not cached: their tag
    /// would read as the gateway of the same low bits (whose slot it is, too), which would then be checked against
    /// this key and lose every datagram.
    @inline(__always)
    func store(_ key: PreparedHMAC, signer: UInt64, gateway: Bool) {
        guard signer & Self.gatewayBit == 0 else { return }
        let i = slot(signer)
        tags[i] = signer | (gateway ? Self.gatewayBit : 0)
        entries[i] = key
    }
}

extension PingIngest {
    /// Counts a datagram the kernel truncated (larger than the receive buffer) as `truncated`.
    public func countTruncated() { counters.datagrams &+= 1; counters.dropped[DropReason.truncated.rawValue] &+= 1 }
}

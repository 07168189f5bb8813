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
/// A receive window (`ingestWindow`) takes those steps a stage at a time across its datagrams: the keys it lacks
/// are derived and the tags checked two at a time (`PreparedHMAC`'s paired block function), and the table rows its
/// records will update are loaded before the first is written, so their cache misses overlap.
/// Loop-owned. Allocates nothing per datagram.
public final class PingIngest {
    public let table: DriverTable
    private let keys: PingKeys
    /// Records newer than now + this are dropped as `skew`.
    public var maxAheadMs: Int64 = 30_000
    /// Records older than now − this are dropped as `skew`.
    public var maxBehindMs: Int64 = 600_000
    public private(set) var counters = IngestCounters()
    /// Called with accepted records, after the table took them, in arrival order (the tracking hub and live speeds
    /// listen): once per receive window with all of its accepted records, once per record from the other paths. A
    /// call per record cost a retain and a release of each listener's context per record.
    public var acceptedListeners: [(UnsafeBufferPointer<DriverState>, PingTransport) -> Void] = []
    /// The accepted records of the window being ingested, handed to the listeners when it ends (or fills).
    private let acceptedStates = UnsafeMutableBufferPointer<DriverState>.allocate(capacity: PingIngest.acceptedBatch)
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
        acceptedStates.initialize(repeating: DriverState(id: DriverID(0), latE7: 0, lngE7: 0, timestampMs: 0, status: .offline))
    }

    deinit { acceptedStates.deallocate() }

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
        let w = window
        counters.datagrams &+= UInt64(datagrams.count)
        counters.lastDatagramMs = nowMs
        // 1. Layout and cached keys; the signers whose key is missing are listed once each. The window's cache slots
        // are read first, in a loop of independent loads, so their misses overlap instead of stalling one by one.
        for d in datagrams where d.bytes.count >= 16 {
            warmSink &+= keyCache.touch(signer: UInt64(littleEndian: d.bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        var laidOut = 0, misses = 0
        for k in 0..<datagrams.count {
            let d = datagrams[k]
            if d.isTruncated {
                counters.dropped[DropReason.truncated.rawValue] &+= 1
                continue
            }
            let header: PingHeader
            do { header = try PingWire.header(d.bytes) } catch {
                counters.dropped[error == .truncated ? DropReason.truncated.rawValue : DropReason.version.rawValue] &+= 1
                continue
            }
            w.bytes[laidOut] = d.bytes
            w.headers[laidOut] = header
            if let key = keyCache.cached(signer: header.signerID, gateway: header.isGatewaySigned) {
                w.keys[laidOut] = key
                w.missOf[laidOut] = -1
            } else {
                var m = 0
                while m < misses && (w.missSigners[m] != header.signerID || w.missGateway[m] != header.isGatewaySigned) {
                    m += 1
                }
                if m == misses {
                    w.missSigners[m] = header.signerID
                    w.missGateway[m] = header.isGatewaySigned
                    misses += 1
                }
                w.missOf[laidOut] = Int32(m)
            }
            laidOut += 1
        }
        // 2. Missing keys, derived two at a time, then cached.
        var m = 0
        while m + 1 < misses {
            (w.missKeys[m], w.missKeys[m + 1]) = keys.preparedPair(w.missSigners[m], gateway: w.missGateway[m],
                                                                    w.missSigners[m + 1], gateway: w.missGateway[m + 1])
            m += 2
        }
        if m < misses {
            w.missKeys[m] = w.missGateway[m] ? keys.preparedGateway(w.missSigners[m]) : keys.preparedDriver(w.missSigners[m])
        }
        for m in 0..<misses { keyCache.store(w.missKeys[m], signer: w.missSigners[m], gateway: w.missGateway[m]) }
        for c in 0..<laidOut where w.missOf[c] >= 0 { w.keys[c] = w.missKeys[Int(w.missOf[c])] }
        // 3. Tags, two at a time; the datagrams that pass stay listed, in order.
        var passed = 0, c = 0
        while c < laidOut {
            let ok: (Bool, Bool)
            if c + 1 < laidOut {
                ok = PingTag.verifyPair(w.bytes[c], prepared: w.keys[c], w.bytes[c + 1], prepared: w.keys[c + 1])
            } else {
                ok = (PingTag.verify(w.bytes[c], prepared: w.keys[c]), false)
            }
            for i in c..<min(c + 2, laidOut) {
                if i == c ? ok.0 : ok.1 {
                    w.bytes[passed] = w.bytes[i]
                    w.headers[passed] = w.headers[i]
                    passed += 1
                } else {
                    counters.dropped[DropReason.badTag.rawValue] &+= 1
                }
            }
            c += 2
        }
        // 4. The table rows the records will touch, loaded together.
        var warmed = 0
        for i in 0..<passed where warmed < Self.warmRecords {
            let d = w.bytes[i]
            for r in 0..<min(w.headers[i].recordCount, Self.warmRecords - warmed) {
                w.warmIDs[warmed] = UInt64(littleEndian: d.loadUnaligned(fromByteOffset: PingWire.headerBytes + PingWire.recordBytes * r,
                                                                          as: UInt64.self))
                warmed += 1
            }
        }
        warmSink &+= table.warm(UnsafeBufferPointer(start: w.warmIDs, count: warmed))
        // 5. Records.
        var accepted: UInt64 = 0
        for i in 0..<passed {
            accepted &+= acceptRecords(w.bytes[i], w.headers[i], nowMs: nowMs)
        }
        counters.accepted[PingTransport.udp.rawValue] &+= accepted
        tellListeners(.udp)
    }

    /// Keeps `warm`'s loads alive (a value nobody reads).
    private var warmSink: UInt64 = 0

    /// Takes one datagram straight from the receive buffer. Every outcome is counted.
    public func ingestDatagram(_ d: UnsafeRawBufferPointer, nowMs: Int64) {
        counters.datagrams &+= 1
        counters.lastDatagramMs = nowMs
        let header: PingHeader
        do { header = try PingWire.header(d) } catch {
            counters.dropped[error == .truncated ? DropReason.truncated.rawValue : DropReason.version.rawValue] &+= 1
            return
        }
        let prepared: PreparedHMAC
        if let key = keyCache.cached(signer: header.signerID, gateway: header.isGatewaySigned) {
            prepared = key
        } else {
            prepared = header.isGatewaySigned ? keys.preparedGateway(header.signerID) : keys.preparedDriver(header.signerID)
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
            if let reason = accept(r, nowMs: nowMs) {
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
        let reason = accept(r, nowMs: nowMs)
        if let reason { counters.droppedOther[reason.rawValue] &+= 1 } else { counters.accepted[transport.rawValue] &+= 1 }
        tellListeners(transport)
        return reason
    }

    /// The record checks after the tag; nil when the table took the fix (the caller counts it, and
    /// `tellListeners` hands it on).
    @inline(__always)
    private func accept(_ r: PingRecord, nowMs: Int64) -> DropReason? {
        guard r.isInRange else { return .range }
        guard r.timestampMs <= nowMs &+ maxAheadMs && r.timestampMs >= nowMs &- maxBehindMs else { return .skew }
        let state = r.driverState
        guard table.upsert(state) != .replay else { return .replay }
        if acceptedCount == acceptedStates.count { tellListeners(.udp) }
        acceptedStates[acceptedCount] = state
        acceptedCount += 1
        return nil
    }

    /// Hands the accepted records held so far to every listener, then forgets them. Listeners must not ingest
    /// (the buffer they are reading is the one ingest writes).
    private func tellListeners(_ transport: PingTransport) {
        guard acceptedCount > 0 else { return }
        let states = UnsafeBufferPointer(rebasing: acceptedStates[0..<acceptedCount])
        acceptedCount = 0
        for listener in acceptedListeners { listener(states, transport) }
    }
}

/// Per-window working lists of `PingIngest.ingestWindow`, allocated once.
private final class WindowScratch {
    let bytes: UnsafeMutablePointer<UnsafeRawBufferPointer>
    let headers: UnsafeMutablePointer<PingHeader>
    let keys: UnsafeMutablePointer<PreparedHMAC>
    /// Per listed datagram: its signer's index among the window's misses, or -1 when the key was cached.
    let missOf: UnsafeMutablePointer<Int32>
    let missSigners: UnsafeMutablePointer<UInt64>
    let missGateway: UnsafeMutablePointer<Bool>
    let missKeys: UnsafeMutablePointer<PreparedHMAC>
    let warmIDs: UnsafeMutablePointer<UInt64>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        bytes = .allocate(capacity: capacity)
        headers = .allocate(capacity: capacity)
        keys = .allocate(capacity: capacity)
        missOf = .allocate(capacity: capacity)
        missSigners = .allocate(capacity: capacity)
        missGateway = .allocate(capacity: capacity)
        missKeys = .allocate(capacity: capacity)
        warmIDs = .allocate(capacity: PingIngest.warmRecords)
        // Trivial types: initialized once so every later write is a plain assignment.
        bytes.initialize(repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: capacity)
        headers.initialize(repeating: PingHeader(flags: 0, recordCount: 0, signerID: 0), count: capacity)
        keys.initialize(repeating: PreparedHMAC(key: []), count: capacity)
        missOf.initialize(repeating: -1, count: capacity)
        missSigners.initialize(repeating: 0, count: capacity)
        missGateway.initialize(repeating: false, count: capacity)
        missKeys.initialize(repeating: PreparedHMAC(key: []), count: capacity)
        warmIDs.initialize(repeating: 0, count: PingIngest.warmRecords)
    }

    deinit {
        bytes.deallocate(); headers.deallocate(); keys.deallocate(); missOf.deallocate()
        missSigners.deallocate(); missGateway.deallocate(); missKeys.deallocate(); warmIDs.deallocate()
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

#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Vocabulary

/// The position history on disk: one segment file per hour of point time (`positions-<hour>.seg`, the hour
/// counted from the Unix epoch), appended a block at a time. Blocks are sorted by driver, so one driver's points
/// in an hour are a binary search per block (docs/history.md). Safe to call from any thread: one lock serialises
/// the writer and the readers, which the engine runs on one history thread anyway.
public final class PositionLog: Sendable {
    public static let hourMs: Int64 = 3_600_000
    /// Where the segment files live.
    public let directory: String
    private let state: Mutex<Segments>

    /// Opens (creating if needed) the log in `directory`: every segment is checked block by block, and a torn tail
    /// (a block cut short by a crash) is cut off.
    public init(directory: String) throws(HistoryError) {
        self.directory = directory
        try Self.makeDirectory(directory)
        var segments = Segments()
        guard let dir = opendir(directory) else { throw HistoryError("opendir", directory, errno: errno) }
        defer { closedir(dir) }
        var hours: [Int64] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let hour = Self.hour(fromFileName: name) { hours.append(hour) }
        }
        for hour in hours.sorted() {
            segments.byHour[hour] = try Segment(path: Self.path(directory, hour), hour: hour, create: false)
        }
        state = Mutex(segments)
    }

    deinit { state.withLock { $0.closeAll() } }

    /// Appends `points` (any order, any hours): one block per hour they fall in. Returns the bytes written.
    @discardableResult
    public func append(_ points: [HistoryPoint]) throws(HistoryError) -> Int {
        guard !points.isEmpty else { return 0 }
        // Almost every flush falls in one hour: group only when it does not.
        var byHour: [Int64: [HistoryPoint]] = [:]
        let firstHour = Self.hour(of: points[0].timestampMs)
        if points.allSatisfy({ Self.hour(of: $0.timestampMs) == firstHour }) {
            byHour[firstHour] = points
        } else {
            for p in points { byHour[Self.hour(of: p.timestampMs), default: []].append(p) }
        }
        let directory = self.directory
        return try state.withLock { (s: inout Segments) throws(HistoryError) -> Int in
            var written = 0
            for hour in byHour.keys.sorted() {
                var group = byHour[hour]!
                let segment: Segment
                if let open = s.byHour[hour] {
                    segment = open
                } else {
                    segment = try Segment(path: Self.path(directory, hour), hour: hour, create: true)
                    s.byHour[hour] = segment
                }
                written += try segment.append(HistoryBlock.encode(&group))
            }
            return written
        }
    }

    /// One driver's points with `fromMs ≤ ts ≤ toMs`, in time order, at most `limit` (the earliest).
    public func points(of driver: DriverID, fromMs: Int64, toMs: Int64, limit: Int) -> [HistoryPoint] {
        guard fromMs <= toMs, limit > 0 else { return [] }
        let first = Self.hour(of: fromMs), last = Self.hour(of: toMs)
        var found: [HistoryPoint] = []
        state.withLock { s in
            for (hour, segment) in s.byHour where hour >= first && hour <= last {
                segment.collect(driver: driver.rawValue, fromMs: fromMs, toMs: toMs, into: &found)
            }
        }
        // Blocks hold a driver's points in time order and flushes follow acceptance, but a driver forgotten as
        // stale may come back with an older clock: sort rather than trust the order.
        found.sort { $0.timestampMs < $1.timestampMs }
        if found.count > limit { found.removeLast(found.count - limit) }
        return found
    }

    /// Deletes the segments whose whole hour ends at or before `cutoffMs`; returns how many.
    @discardableResult
    public func removeSegments(endingBy cutoffMs: Int64) -> Int {
        state.withLock { s in
            var removed = 0
            for (hour, segment) in s.byHour where (hour + 1) * Self.hourMs <= cutoffMs {
                segment.close()
                unlink(segment.path)
                s.byHour[hour] = nil
                removed += 1
            }
            return removed
        }
    }

    /// Bytes on disk over every segment.
    public var bytesOnDisk: Int { state.withLock { s in s.byHour.values.reduce(0) { $0 + $1.size } } }
    /// The hours that have a segment, oldest first.
    public var hours: [Int64] { state.withLock { s in s.byHour.keys.sorted() } }

    /// The hour (since the epoch) a time falls in.
    public static func hour(of ms: Int64) -> Int64 { ms >= 0 ? ms / hourMs : (ms - hourMs + 1) / hourMs }

    static func path(_ directory: String, _ hour: Int64) -> String { "\(directory)/positions-\(hour).seg" }

    static func hour(fromFileName name: String) -> Int64? {
        guard name.hasPrefix("positions-"), name.hasSuffix(".seg") else { return nil }
        return Int64(name.dropFirst("positions-".count).dropLast(".seg".count))
    }

    static func makeDirectory(_ path: String) throws(HistoryError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw HistoryError("mkdir", prefix, errno: errno) }
        }
    }
}

/// The open segments by hour (the lock's state).
private struct Segments {
    var byHour: [Int64: Segment] = [:]
    mutating func closeAll() {
        for s in byHour.values { s.close() }
        byHour = [:]
    }
}

/// Where a block sits in its segment and what it covers, so a query skips blocks without touching them.
private struct BlockInfo {
    var offset: Int
    var count: Int
    var baseMs: Int64
    var maxMs: Int64
    var minDriver: UInt64
    var maxDriver: UInt64
}

/// One hour's file: appended with `pwrite`, read through a read-only mapping that grows with the file.
private final class Segment {
    let path: String
    let hour: Int64
    private var fd: Int32
    private(set) var size = 0
    private var blocks: [BlockInfo] = []
    private var map: UnsafeRawPointer?
    private var mappedBytes = 0

    init(path: String, hour: Int64, create: Bool) throws(HistoryError) {
        self.path = path
        self.hour = hour
        fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
        guard fd >= 0 else { throw HistoryError("open", path, errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw HistoryError("stat", path, errno: e)
        }
        size = Int(st.st_size)
        if size > 0 { try recover() }
    }

    /// Walks the blocks, keeps the ones that check out, and cuts the file after the last of them.
    private func recover() throws(HistoryError) {
        try remap()
        var at = 0
        if let map {
            let bytes = UnsafeRawBufferPointer(start: map, count: size)
            while let h = HistoryBlock.header(UnsafeRawBufferPointer(rebasing: bytes[at...])) {
                let records = UnsafeRawBufferPointer(rebasing: bytes[(at + HistoryBlock.headerBytes)...])
                blocks.append(BlockInfo(offset: at, count: h.count, baseMs: h.baseMs, maxMs: h.maxMs, minDriver: h.minDriver,
                                        maxDriver: HistoryBlock.driver(records, h.count - 1)))
                at += HistoryBlock.headerBytes + h.count * HistoryBlock.recordBytes
            }
        }
        if at < size {
            guard ftruncate(fd, off_t(at)) == 0 else { throw HistoryError("truncate", path, errno: errno) }
            size = at
            try remap()
        }
    }

    /// Writes one encoded block at the end; a short or failed write is cut back off so the file stays whole.
    func append(_ block: [UInt8]) throws(HistoryError) -> Int {
        let n = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(size)) }
        guard n == block.count else {
            let e = n < 0 ? errno : ENOSPC
            _ = ftruncate(fd, off_t(size))
            throw HistoryError("write", path, errno: e)
        }
        block.withUnsafeBytes { raw in
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            let records = UnsafeRawBufferPointer(rebasing: raw[HistoryBlock.headerBytes...])
            let base = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            let span = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            blocks.append(BlockInfo(offset: size, count: count, baseMs: base, maxMs: base + Int64(span),
                                    minDriver: HistoryBlock.driver(records, 0), maxDriver: HistoryBlock.driver(records, count - 1)))
        }
        size += block.count
        return block.count
    }

    /// Appends the driver's points in `[fromMs, toMs]` from every block that may hold them.
    func collect(driver: UInt64, fromMs: Int64, toMs: Int64, into out: inout [HistoryPoint]) {
        if mappedBytes != size { try? remap() }
        guard let map else { return }
        let bytes = UnsafeRawBufferPointer(start: map, count: mappedBytes)
        for b in blocks where b.maxMs >= fromMs && b.baseMs <= toMs && b.minDriver <= driver && b.maxDriver >= driver {
            guard b.offset + HistoryBlock.headerBytes + b.count * HistoryBlock.recordBytes <= mappedBytes else { continue }
            let records = UnsafeRawBufferPointer(rebasing: bytes[(b.offset + HistoryBlock.headerBytes)...])
            var i = HistoryBlock.lowerBound(records, count: b.count, driver: driver)
            while i < b.count, HistoryBlock.driver(records, i) == driver {
                let p = HistoryBlock.point(records, i, baseMs: b.baseMs)
                if p.timestampMs >= fromMs && p.timestampMs <= toMs { out.append(p) }
                i += 1
            }
        }
    }

    private func remap() throws(HistoryError) {
        if let map { munmap(UnsafeMutableRawPointer(mutating: map), mappedBytes) }
        map = nil
        mappedBytes = 0
        guard size > 0 else { return }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw HistoryError("mmap", path, errno: errno) }
        map = UnsafeRawPointer(p)
        mappedBytes = size
    }

    func close() {
        if let map { munmap(UnsafeMutableRawPointer(mutating: map), mappedBytes) }
        map = nil
        mappedBytes = 0
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

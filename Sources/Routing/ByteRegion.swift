#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One typed array destined for a section of a graph file.
enum SectionSource {
    case f64([Double])
    case i64([Int64])
    case u32([UInt32])
    case u16([UInt16])
    case bytes([UInt8])

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .f64(let a): return try a.withUnsafeBytes(body)
        case .i64(let a): return try a.withUnsafeBytes(body)
        case .u32(let a): return try a.withUnsafeBytes(body)
        case .u16(let a): return try a.withUnsafeBytes(body)
        case .bytes(let a): return try a.withUnsafeBytes(body)
        }
    }
}

/// An immutable block of bytes laid out as a graph file: either memory-mapped from disk or packed in memory.
///
/// Layout (little-endian, every section 8-byte aligned):
/// `magic "HXRGRAPH"` · `u32 version` · `u32 section count N` · N × (`u64 offset`, `u64 byte count`) · sections.
/// Graphs and hierarchies are views over a region, so a freshly built graph and a loaded one share every code path,
/// and loading costs one `mmap` plus a validation pass.
///
/// `@unchecked Sendable`: the bytes are never written after `init`, and `deinit` runs only when no view remains.
final class ByteRegion: @unchecked Sendable {
    /// The file magic.
    static let magic: [UInt8] = Array("HXRGRAPH".utf8)
    /// The format version this build reads and writes (2: the graph gained per-edge turn penalties).
    static let version: UInt32 = 2
    /// The oldest version this build still reads (1: no turn penalties, read as none).
    static let oldestReadableVersion: UInt32 = 1

    let base: UnsafeRawPointer
    let count: Int
    private let mapped: Bool

    private init(base: UnsafeRawPointer, count: Int, mapped: Bool) {
        self.base = base
        self.count = count
        self.mapped = mapped
    }

    deinit {
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        else { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    /// Packs sections into a new in-memory region.
    static func pack(_ sections: [SectionSource]) -> ByteRegion {
        let headerSize = 16 + 16 * sections.count
        var offsets: [(Int, Int)] = []
        var cursor = (headerSize + 7) & ~7
        for s in sections {
            let size = s.withBytes { $0.count }
            offsets.append((cursor, size))
            cursor = (cursor + size + 7) & ~7
        }
        let total = cursor
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(total, 8), alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        raw.copyMemory(from: magic, byteCount: 8)
        raw.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
        raw.storeBytes(of: UInt32(sections.count).littleEndian, toByteOffset: 12, as: UInt32.self)
        for (i, s) in sections.enumerated() {
            raw.storeBytes(of: UInt64(offsets[i].0).littleEndian, toByteOffset: 16 + 16 * i, as: UInt64.self)
            raw.storeBytes(of: UInt64(offsets[i].1).littleEndian, toByteOffset: 24 + 16 * i, as: UInt64.self)
            s.withBytes { bytes in
                if let b = bytes.baseAddress, bytes.count > 0 { (raw + offsets[i].0).copyMemory(from: b, byteCount: bytes.count) }
            }
        }
        return ByteRegion(base: UnsafeRawPointer(raw), count: total, mapped: false)
    }

    /// Concatenates the sections of several regions into one new region (graph + hierarchy → one file).
    static func merge(_ regions: [ByteRegion]) throws(RoutingError) -> ByteRegion {
        var sources: [SectionSource] = []
        for region in regions {
            for s in try region.sections() {
                sources.append(.bytes(Array(s)))
            }
        }
        return pack(sources)
    }

    /// Maps the file at `path` read-only.
    static func map(path: String) throws(RoutingError) -> ByteRegion {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RoutingError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw RoutingError(.io, "cannot stat \(path)") }
        let size = Int(st.st_size)
        guard size >= 16 else { throw RoutingError(.truncated, "\(path) has \(size) bytes, less than a graph header") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw RoutingError(.io, "cannot map \(path): \(String(cString: strerror(errno)))")
        }
        return ByteRegion(base: UnsafeRawPointer(p), count: size, mapped: true)
    }

    /// Writes the region to `path` (via a temporary file and rename, so readers never see half a file).
    func write(to path: String) throws(RoutingError) {
        let tmp = path + ".tmp\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw RoutingError(.io, "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < count {
            let n = Glibc.write(fd, base + written, count - written)
            if n <= 0 {
                close(fd)
                unlink(tmp)
                throw RoutingError(.io, "cannot write \(tmp): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw RoutingError(.io, "cannot rename \(tmp) to \(path)") }
    }

    /// The format version in the header (check it with `sections()` first).
    var fileVersion: UInt32 { count >= 12 ? UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) : 0 }

    /// The sections, after checking magic, version and bounds.
    func sections() throws(RoutingError) -> [UnsafeRawBufferPointer] {
        guard count >= 16 else { throw RoutingError(.truncated, "graph file shorter than its header") }
        for i in 0..<8 where base.load(fromByteOffset: i, as: UInt8.self) != Self.magic[i] {
            throw RoutingError(.badMagic, "not a Hexfleet graph file (magic bytes differ)")
        }
        let version = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard (Self.oldestReadableVersion...Self.version).contains(version) else {
            throw RoutingError(.badVersion, "graph file version \(version); this build reads versions \(Self.oldestReadableVersion)–\(Self.version)")
        }
        let n = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        guard n <= 1024, 16 + 16 * n <= count else { throw RoutingError(.truncated, "graph file ends inside its section table") }
        var out: [UnsafeRawBufferPointer] = []
        for i in 0..<n {
            let offset = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16 + 16 * i, as: UInt64.self))
            let size = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 24 + 16 * i, as: UInt64.self))
            guard offset % 8 == 0, offset <= UInt64(count), size <= UInt64(count) - offset else {
                throw RoutingError(.truncated, "section \(i) (offset \(offset), \(size) bytes) lies outside the \(count)-byte file")
            }
            out.append(UnsafeRawBufferPointer(start: base + Int(offset), count: Int(size)))
        }
        return out
    }

    /// A section as a typed buffer; throws when its size is not a whole number of elements.
    static func typed<T>(_ raw: UnsafeRawBufferPointer, _ type: T.Type, count expected: Int? = nil,
                         name: String) throws(RoutingError) -> UnsafeBufferPointer<T> {
        guard raw.count % MemoryLayout<T>.stride == 0 else { throw RoutingError(.corrupt, "section \(name) has a partial element") }
        let n = raw.count / MemoryLayout<T>.stride
        if let expected, expected != n { throw RoutingError(.corrupt, "section \(name) has \(n) elements, expected \(expected)") }
        guard let b = raw.baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: b.assumingMemoryBound(to: T.self), count: n)
    }
}

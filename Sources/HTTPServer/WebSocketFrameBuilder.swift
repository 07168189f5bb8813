/// A reusable buffer in which a server builds one outgoing WebSocket data frame in place: the payload is appended
/// after room reserved for the largest frame header, and ``WebSocketConnection/send(_:binary:)`` writes the header
/// into that room and hands header and payload to the socket as one contiguous write.
///
/// ```
///  storage: [ 10 bytes header room ][ payload … count ][ spare capacity ]
///  on send:        [hh hh]           ← header right-aligned against the payload, then one write(2)
/// ```
/// Why: going through wslay costs a `malloc` and a copy of every message (`wslay_event_queue_msg`) plus a second
/// copy into the collected send buffer; a fan-out server sends each subscriber a fresh message every tick, so
/// those copies were a measurable share of its time. Loop-owned; not `Sendable`. Storage only grows.
public final class WebSocketFrameBuilder {
    /// Bytes reserved before the payload: a server frame header is 2, 4 or 10 bytes (no mask).
    static let headerRoom = 10
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// Payload bytes appended since the last ``reset()``.
    public private(set) var count = 0

    /// A builder whose storage starts with room for `initialCapacity` payload bytes.
    public init(initialCapacity: Int = 4096) {
        capacity = Self.headerRoom + max(64, initialCapacity)
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Empties the payload, keeping the storage.
    @inline(__always)
    public func reset() { count = 0 }

    /// Makes room for `extra` more payload bytes.
    @inline(__always)
    public func reserve(_ extra: Int) {
        if Self.headerRoom + count + extra > capacity { grow(to: Self.headerRoom + count + extra) }
    }

    private func grow(to needed: Int) {
        var c = capacity
        while c < needed { c *= 2 }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: c, alignment: 16)
        bigger.copyMemory(from: storage, byteCount: Self.headerRoom + count)
        storage.deallocate()
        storage = bigger
        capacity = c
    }

    /// Appends raw bytes.
    @inline(__always)
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + Self.headerRoom + count).copyMemory(from: base, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends the bytes of an array.
    @inline(__always)
    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends one byte.
    @inline(__always)
    public func append(_ byte: UInt8) {
        reserve(1)
        storage.storeBytes(of: byte, toByteOffset: Self.headerRoom + count, as: UInt8.self)
        count += 1
    }

    /// Appends `n` bytes written by `body` into the space it is given (exactly `n` bytes must be written).
    @inline(__always)
    public func append(count n: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        reserve(n)
        body(UnsafeMutableRawBufferPointer(start: storage + Self.headerRoom + count, count: n))
        count += n
    }

    /// Overwrites four payload bytes at `offset` (already appended) with `value`, little-endian.
    public func storeUInt32LE(_ value: UInt32, atPayloadOffset offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count, "store past the payload")
        storage.storeBytes(of: value.littleEndian, toByteOffset: Self.headerRoom + offset, as: UInt32.self)
    }

    /// The payload written so far (valid until the next mutation).
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + Self.headerRoom, count: count)
    }

    /// Writes a final-fragment, unmasked header for `opcode` before the payload and returns header + payload.
    func frame(opcode: UInt8) -> UnsafeRawBufferPointer {
        let h = count < 126 ? 2 : count <= 0xFFFF ? 4 : 10
        let start = storage + (Self.headerRoom - h)
        start.storeBytes(of: 0x80 | opcode, as: UInt8.self)
        switch h {
        case 2:
            start.storeBytes(of: UInt8(count), toByteOffset: 1, as: UInt8.self)
        case 4:
            start.storeBytes(of: 126, toByteOffset: 1, as: UInt8.self)
            start.storeBytes(of: UInt16(count).bigEndian, toByteOffset: 2, as: UInt16.self)
        default:
            start.storeBytes(of: 127, toByteOffset: 1, as: UInt8.self)
            start.storeBytes(of: UInt64(count).bigEndian, toByteOffset: 2, as: UInt64.self)
        }
        return UnsafeRawBufferPointer(start: start, count: h + count)
    }
}

import CLibUV

/// A `uv_write_t` with its own byte buffer: the bytes of one queued write live here until the write callback.
/// Requests of the standard size return to the loop's pool (``Loop/writePool``) and are reused.
final class WriteRequest {
    /// The standard pooled buffer size; bigger writes get a one-off request.
    static let pooledBytes = 16 * 1024
    /// At most this many idle requests stay pooled per loop.
    static let poolLimit = 256

    let request: UnsafeMutablePointer<uv_write_t>
    let buffer: UnsafeMutableRawPointer
    let capacity: Int
    var count = 0
    /// The connection, retained while libuv holds the request.
    var owner: Unmanaged<TCPConnection>?
    /// The other chunks of the same libuv write (this request carries it), recycled with it.
    var chained: [WriteRequest] = []

    init(capacity: Int) {
        self.capacity = capacity
        request = .allocate(capacity: 1)
        request.initialize(to: uv_write_t())
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    /// Frees the C memory; called once, when the request leaves the pool for good.
    func free() {
        request.deallocate()
        buffer.deallocate()
    }

    /// Takes a request able to hold `bytes` from `loop`'s pool, or makes one.
    static func take(from loop: Loop, bytes: Int) -> WriteRequest {
        if bytes <= pooledBytes, let request = loop.writePool.popLast() { return request }
        return WriteRequest(capacity: max(bytes, pooledBytes))
    }

    /// Returns the request to `loop`'s pool when it has the standard size and the pool has room, else frees it.
    func recycle(into loop: Loop) {
        owner = nil
        count = 0
        chained = []
        if capacity == Self.pooledBytes, loop.writePool.count < Self.poolLimit {
            loop.writePool.append(self)
        } else {
            free()
        }
    }
}

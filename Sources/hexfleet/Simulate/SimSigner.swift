import Engine

/// Per-driver datagram signing with keys derived once and cached (`PreparedHMAC`: no allocation per datagram).
final class SimSigner {
    private let keys: PingKeys
    private var cache: [PreparedHMAC?]
    private let firstID: UInt64

    /// Keys under `keys` for ids `firstID ..< firstID + count`, derived on first use.
    init(keys: PingKeys, firstID: UInt64, count: Int) {
        self.keys = keys
        self.firstID = firstID
        cache = [PreparedHMAC?](repeating: nil, count: count)
    }

    /// The key of driver `id` (cached when `id` is in the configured range).
    func key(_ id: UInt64) -> PreparedHMAC {
        let i = Int(truncatingIfNeeded: id &- firstID)
        guard id >= firstID, i < cache.count else { return keys.preparedDriver(id) }
        if let k = cache[i] { return k }
        let k = keys.preparedDriver(id)
        cache[i] = k
        return k
    }

    /// Writes the tag of `datagram` (its last 16 bytes) under `key`.
    func sign(_ datagram: UnsafeMutableRawBufferPointer, key: PreparedHMAC) { PingTag.sign(datagram, prepared: key) }
}

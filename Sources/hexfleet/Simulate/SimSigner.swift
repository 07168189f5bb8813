/// Per-driver datagram signing with keys derived once and cached. Generic over the key type so tests can sign with
/// any key (the simulator uses Engine's allocation-free `PreparedHMAC`).
final class SimSigner<Key> {
    private let derive: (UInt64) -> Key
    private let signBody: (UnsafeMutableRawBufferPointer, Key) -> Void
    private var cache: [Key?]
    private let firstID: UInt64

    /// Keys for ids `firstID ..< firstID + count`, derived on first use.
    init(firstID: UInt64, count: Int, derive: @escaping (UInt64) -> Key,
         sign: @escaping (UnsafeMutableRawBufferPointer, Key) -> Void) {
        self.derive = derive
        self.signBody = sign
        self.firstID = firstID
        cache = [Key?](repeating: nil, count: count)
    }

    /// The key of signer `id` (cached when `id` is in the configured range).
    func key(_ id: UInt64) -> Key {
        let i = Int(truncatingIfNeeded: id &- firstID)
        guard id >= firstID, i < cache.count else { return derive(id) }
        if let k = cache[i] { return k }
        let k = derive(id)
        cache[i] = k
        return k
    }

    /// Writes the tag of `datagram` (its last 16 bytes) under `key`.
    func sign(_ datagram: UnsafeMutableRawBufferPointer, key: Key) { signBody(datagram, key) }
}

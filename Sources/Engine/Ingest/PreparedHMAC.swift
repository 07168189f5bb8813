import CLibCrypto

/// HMAC-SHA256 (RFC 2104) keyed once: SHA-256's chaining values after the key's inner and outer pad blocks.
///
/// A message then costs the compressions of its own bytes plus one for the outer hash, run from those values on a
/// stack context (OpenSSL's SHA-NI accelerated SHA-256): no key schedule and no allocation per message, where
/// swift-crypto's `HMAC` copies a heap context for every message it authenticates. 64 bytes, so a cache can hold
/// one per signer.
public struct PreparedHMAC: Sendable {
    typealias Chain = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    private let inner: Chain
    private let outer: Chain

    /// A value read from both chains (a cache warm-up load; `PingIngest.warm`).
    var touchValue: UInt64 { UInt64(inner.0) &+ UInt64(outer.7) }

    /// The byte length of a code.
    public static let codeBytes = 32

    /// Keyed with `key` (any length: a key longer than SHA-256's 64-byte block is hashed first, per RFC 2104).
    public init(key: UnsafeRawBufferPointer) {
        var chains: (Chain, Chain) = ((0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
            block.initialize(repeating: 0)
            if key.count > 64 {
                var c = SHA256_CTX()
                SHA256_Init(&c)
                SHA256_Update(&c, key.baseAddress, key.count)
                SHA256_Final(block.baseAddress, &c)
            } else if key.count > 0 {
                UnsafeMutableRawBufferPointer(block).copyMemory(from: key)
            }
            for i in 0..<64 { block[i] ^= 0x36 }
            chains.0 = Self.chain(afterBlock: block)
            for i in 0..<64 { block[i] ^= 0x36 ^ 0x5C }
            chains.1 = Self.chain(afterBlock: block)
            block.initialize(repeating: 0)   // the key's pads do not linger on the stack
        }
        inner = chains.0
        outer = chains.1
    }

    /// Keyed with `key`'s bytes.
    public init(key: [UInt8]) {
        self = key.withUnsafeBytes { PreparedHMAC(key: $0) }
    }

    /// Writes the 32-byte code of `message` to `out` (which may be stack memory of the caller).
    ///
    /// Runs SHA-256's block function (`SHA256_Transform`) on the message and on padding spelled here, instead of
    /// `SHA256_Update`/`SHA256_Final`: a one-record datagram and a key derivation are one block each, and the
    /// buffering, clean-up and byte swapping of the streaming calls cost about as much as the block itself.
    @inline(__always)
    public func authenticationCode(for message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        let innerHash = Self.hash(message, resumingAt: inner)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
            let b = UnsafeMutableRawPointer(block.baseAddress!)
            Self.storeBigEndian(innerHash, at: b)
            Self.pad(b, used: Self.codeBytes, totalBytes: 64 + Self.codeBytes)
            Self.storeBigEndian(Self.compress(outer, UnsafeRawPointer(b), blocks: 1), at: UnsafeMutableRawPointer(out))
        }
    }

    /// The code of `message` as an array (tests and cold paths).
    public func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.codeBytes) { buffer, count in
            authenticationCode(for: message, into: buffer.baseAddress!)
            count = Self.codeBytes
        }
    }

    /// Whether `tag` equals the first `tag.count` bytes (at most 32) of `message`'s code, compared in constant time.
    @inline(__always)
    public func verify(_ message: UnsafeRawBufferPointer, truncatedTag tag: UnsafeRawBufferPointer) -> Bool {
        guard tag.count <= Self.codeBytes else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.codeBytes) { code in
            authenticationCode(for: message, into: code.baseAddress!)
            var diff: UInt8 = 0
            for i in 0..<tag.count { diff |= code[i] ^ tag[i] }
            return diff == 0
        }
    }

    /// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
    private static let initialChain: Chain = (0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
                                              0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19)

    /// SHA-256's state after one 64-byte block.
    private static func chain(afterBlock block: UnsafeMutableBufferPointer<UInt8>) -> Chain {
        compress(initialChain, UnsafeRawPointer(block.baseAddress!), blocks: 1)
    }

    /// Runs the block function over `blocks` 64-byte blocks at `data` from `chain` (OpenSSL picks SHA-NI when the
    /// CPU has it).
    @inline(__always)
    private static func compress(_ chain: Chain, _ data: UnsafeRawPointer, blocks: Int) -> Chain {
        var c = SHA256_CTX()
        c.h = chain
        for i in 0..<blocks { SHA256_Transform(&c, data.advanced(by: 64 * i).assumingMemoryBound(to: UInt8.self)) }
        return c.h
    }

    /// The chaining value after `message` and its padding, resuming from `chain`, which one 64-byte block (a key
    /// pad) produced.
    @inline(__always)
    private static func hash(_ message: UnsafeRawBufferPointer, resumingAt chain: Chain) -> Chain {
        let fullBlocks = message.count / 64
        var h = chain
        if fullBlocks > 0 { h = compress(h, message.baseAddress!, blocks: fullBlocks) }
        let rest = message.count - 64 * fullBlocks
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
            let t = UnsafeMutableRawPointer(tail.baseAddress!)
            if rest > 0 { t.copyMemory(from: message.baseAddress! + 64 * fullBlocks, byteCount: rest) }
            let tailBlocks = pad(t, used: rest, totalBytes: 64 + message.count)
            return compress(h, UnsafeRawPointer(t), blocks: tailBlocks)
        }
    }

    /// Appends SHA-256's padding after `used` bytes at `block` (the 0x80 byte, zeros, the bit length of all
    /// `totalBytes` hashed, big-endian) and returns how many 64-byte blocks that makes (1, or 2 when fewer than 9
    /// bytes of the first block are free). `block` has room for two blocks when `used` > 55.
    @inline(__always)
    @discardableResult
    private static func pad(_ block: UnsafeMutableRawPointer, used: Int, totalBytes: Int) -> Int {
        let blocks = used + 9 <= 64 ? 1 : 2
        block.storeBytes(of: 0x80, toByteOffset: used, as: UInt8.self)
        (block + used + 1).initializeMemory(as: UInt8.self, repeating: 0, count: 64 * blocks - 8 - used - 1)
        block.storeBytes(of: UInt64(totalBytes * 8).bigEndian, toByteOffset: 64 * blocks - 8, as: UInt64.self)
        return blocks
    }

    /// Writes a chaining value as SHA-256's 32-byte digest (big-endian words).
    @inline(__always)
    private static func storeBigEndian(_ h: Chain, at out: UnsafeMutableRawPointer) {
        withUnsafeBytes(of: h) { words in
            for i in 0..<8 {
                out.storeBytes(of: words.load(fromByteOffset: 4 * i, as: UInt32.self).bigEndian, toByteOffset: 4 * i,
                               as: UInt32.self)
            }
        }
    }
}

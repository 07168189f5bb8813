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
    @inline(__always)
    public func authenticationCode(for message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        var c = SHA256_CTX()
        Self.resume(&c, at: inner)
        SHA256_Update(&c, message.baseAddress, message.count)
        SHA256_Final(out, &c)
        Self.resume(&c, at: outer)
        SHA256_Update(&c, out, Self.codeBytes)
        SHA256_Final(out, &c)
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

    /// SHA-256's state after one 64-byte block.
    private static func chain(afterBlock block: UnsafeMutableBufferPointer<UInt8>) -> Chain {
        var c = SHA256_CTX()
        SHA256_Init(&c)
        SHA256_Update(&c, block.baseAddress, 64)
        return c.h
    }

    /// A context that has absorbed one 64-byte block (512 bits) and reached `chain`.
    @inline(__always)
    private static func resume(_ c: inout SHA256_CTX, at chain: Chain) {
        SHA256_Init(&c)
        c.h = chain
        c.Nl = 512
    }
}

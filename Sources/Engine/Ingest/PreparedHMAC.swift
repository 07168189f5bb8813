import CLibCrypto
import CSHA256Lanes

/// HMAC-SHA256 (RFC 2104) keyed once: SHA-256's chaining values after the key's inner and outer pad blocks.
///
/// A message then costs the compressions of its own bytes plus one for the outer hash, run from those values: no
/// key schedule and no allocation per message, where swift-crypto's `HMAC` copies a heap context for every message
/// it authenticates. 64 bytes, so a cache can hold one per signer. The `…Pair` functions run two independent HMACs
/// in lockstep on the two-chain block function (`CSHA256Lanes`), which costs little more than one.
public struct PreparedHMAC: Sendable {
    typealias Chain = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    private var inner: Chain
    private var outer: Chain

    /// The byte length of a code.
    public static let codeBytes = 32

    private init(inner: Chain, outer: Chain) {
        self.inner = inner
        self.outer = outer
    }

    /// Keyed with `key` (any length: a key longer than SHA-256's 64-byte block is hashed first, per RFC 2104).
    public init(key: UnsafeRawBufferPointer) {
        if key.count > 64 {
            var digest = [UInt8](repeating: 0, count: Self.codeBytes)
            var c = SHA256_CTX()
            SHA256_Init(&c)
            SHA256_Update(&c, key.baseAddress, key.count)
            SHA256_Final(&digest, &c)
            self = digest.withUnsafeBytes { PreparedHMAC(key: $0) }
            return
        }
        self.init(inner: Self.initialChain, outer: Self.initialChain)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { pads in
            Self.spellPads(of: key, at: UnsafeMutableRawPointer(pads.baseAddress!))
            Self.compressPair(&inner, UnsafeRawPointer(pads.baseAddress!), &outer, UnsafeRawPointer(pads.baseAddress! + 64))
            pads.initialize(repeating: 0)   // the key's pads do not linger on the stack
        }
    }

    /// Keyed with `key`'s bytes.
    public init(key: [UInt8]) {
        self = key.withUnsafeBytes { PreparedHMAC(key: $0) }
    }

    /// Two keys of at most 64 bytes each, prepared together (their four pad blocks in two two-chain calls).
    static func pair(keys a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> (PreparedHMAC, PreparedHMAC) {
        precondition(a.count <= 64 && b.count <= 64)
        var x = PreparedHMAC(inner: initialChain, outer: initialChain)
        var y = x
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { pads in
            let p = UnsafeMutableRawPointer(pads.baseAddress!)
            spellPads(of: a, at: p)
            spellPads(of: b, at: p + 128)
            compressPair(&x.inner, UnsafeRawPointer(p), &y.inner, UnsafeRawPointer(p + 128))
            compressPair(&x.outer, UnsafeRawPointer(p + 64), &y.outer, UnsafeRawPointer(p + 192))
            pads.initialize(repeating: 0)
        }
        return (x, y)
    }

    /// Writes the 32-byte code of `message` to `out` (which may be stack memory of the caller).
    @inline(__always)
    public func authenticationCode(for message: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
            let t = UnsafeMutableRawPointer(tail.baseAddress!)
            let blocks = Self.Blocks(message, tail: t)
            var h = inner
            for j in 0..<blocks.count { Self.compress(&h, blocks[j]) }
            var o = outer
            Self.spellOuterBlock(from: h, at: t)
            Self.compress(&o, UnsafeRawPointer(t))
            Self.storeBigEndian(o, at: UnsafeMutableRawPointer(out))
        }
    }

    /// The codes of two messages under two keys (or the same key twice), computed in lockstep; the same bytes as
    /// two `authenticationCode` calls.
    @inline(__always)
    static func authenticationCodes(_ a: PreparedHMAC, _ messageA: UnsafeRawBufferPointer, into outA: UnsafeMutablePointer<UInt8>,
                                    _ b: PreparedHMAC, _ messageB: UnsafeRawBufferPointer, into outB: UnsafeMutablePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { tails in
            let ta = UnsafeMutableRawPointer(tails.baseAddress!), tb = ta + 128
            let blocksA = Blocks(messageA, tail: ta), blocksB = Blocks(messageB, tail: tb)
            var ha = a.inner, hb = b.inner
            let both = min(blocksA.count, blocksB.count)
            for j in 0..<both { compressPair(&ha, blocksA[j], &hb, blocksB[j]) }
            for j in both..<blocksA.count { compress(&ha, blocksA[j]) }
            for j in both..<blocksB.count { compress(&hb, blocksB[j]) }
            var oa = a.outer, ob = b.outer
            spellOuterBlock(from: ha, at: ta)
            spellOuterBlock(from: hb, at: tb)
            compressPair(&oa, UnsafeRawPointer(ta), &ob, UnsafeRawPointer(tb))
            storeBigEndian(oa, at: UnsafeMutableRawPointer(outA))
            storeBigEndian(ob, at: UnsafeMutableRawPointer(outB))
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
            return Self.matches(tag, code.baseAddress!)
        }
    }

    /// `verify` for two messages at once (see `authenticationCodes`).
    @inline(__always)
    static func verifyPair(_ a: PreparedHMAC, _ messageA: UnsafeRawBufferPointer, truncatedTag tagA: UnsafeRawBufferPointer,
                           _ b: PreparedHMAC, _ messageB: UnsafeRawBufferPointer, truncatedTag tagB: UnsafeRawBufferPointer)
        -> (Bool, Bool) {
        guard tagA.count <= codeBytes && tagB.count <= codeBytes else {
            return (a.verify(messageA, truncatedTag: tagA), b.verify(messageB, truncatedTag: tagB))
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * codeBytes) { codes in
            let ca = codes.baseAddress!, cb = ca + codeBytes
            authenticationCodes(a, messageA, into: ca, b, messageB, into: cb)
            return (matches(tagA, ca), matches(tagB, cb))
        }
    }

    /// Constant-time comparison of `tag` with the first `tag.count` bytes of `code`.
    @inline(__always)
    private static func matches(_ tag: UnsafeRawBufferPointer, _ code: UnsafeMutablePointer<UInt8>) -> Bool {
        var diff: UInt8 = 0
        for i in 0..<tag.count { diff |= code[i] ^ tag[i] }
        return diff == 0
    }

    /// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
    private static let initialChain: Chain = (0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
                                              0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19)

    /// A message's blocks as the inner hash reads them (after the key's pad block): its whole 64-byte blocks in
    /// place, then its last bytes and SHA-256's padding copied to `tail` (room for two blocks).
    private struct Blocks {
        let message: UnsafeRawPointer?
        let whole: Int
        let tail: UnsafeRawPointer
        let count: Int

        @inline(__always)
        init(_ message: UnsafeRawBufferPointer, tail: UnsafeMutableRawPointer) {
            self.message = UnsafeRawPointer(message.baseAddress)
            whole = message.count / 64
            let rest = message.count - 64 * whole
            if rest > 0 { tail.copyMemory(from: message.baseAddress! + 64 * whole, byteCount: rest) }
            count = whole + PreparedHMAC.pad(tail, used: rest, totalBytes: 64 + message.count)
            self.tail = UnsafeRawPointer(tail)
        }

        @inline(__always)
        subscript(j: Int) -> UnsafeRawPointer { j < whole ? message! + 64 * j : tail + 64 * (j - whole) }
    }

    /// Writes `key ⊕ ipad` and `key ⊕ opad` (two 64-byte blocks) at `pads`; `key` has at most 64 bytes.
    @inline(__always)
    private static func spellPads(of key: UnsafeRawBufferPointer, at pads: UnsafeMutableRawPointer) {
        pads.initializeMemory(as: UInt8.self, repeating: 0x36, count: 64)
        (pads + 64).initializeMemory(as: UInt8.self, repeating: 0x5C, count: 64)
        for i in 0..<key.count {
            pads.storeBytes(of: key[i] ^ 0x36, toByteOffset: i, as: UInt8.self)
            pads.storeBytes(of: key[i] ^ 0x5C, toByteOffset: 64 + i, as: UInt8.self)
        }
    }

    /// The outer hash's only block: the inner digest and its padding (64 pad bytes + 32 digest bytes hashed).
    @inline(__always)
    private static func spellOuterBlock(from innerHash: Chain, at block: UnsafeMutableRawPointer) {
        storeBigEndian(innerHash, at: block)
        pad(block, used: codeBytes, totalBytes: 64 + codeBytes)
    }

    /// Runs the block function over the 64-byte block at `data`.
    @inline(__always)
    private static func compress(_ chain: inout Chain, _ data: UnsafeRawPointer) {
        withUnsafeMutableBytes(of: &chain) { h in
            hf_sha256_block(h.baseAddress!.assumingMemoryBound(to: UInt32.self), data.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Runs the block function over one block on each of two independent chains.
    @inline(__always)
    private static func compressPair(_ a: inout Chain, _ dataA: UnsafeRawPointer, _ b: inout Chain, _ dataB: UnsafeRawPointer) {
        withUnsafeMutableBytes(of: &a) { ha in
            withUnsafeMutableBytes(of: &b) { hb in
                hf_sha256_block2(ha.baseAddress!.assumingMemoryBound(to: UInt32.self), dataA.assumingMemoryBound(to: UInt8.self),
                                 hb.baseAddress!.assumingMemoryBound(to: UInt32.self), dataB.assumingMemoryBound(to: UInt8.self))
            }
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

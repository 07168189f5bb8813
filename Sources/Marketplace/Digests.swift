import Crypto

/// SHA-256 and HMAC-SHA256 for Marketplace, backed by swift-crypto (a well-kept library rather than
/// hand-written crypto): webhook signatures and idempotency fingerprints.
enum Digests {
    /// The 32-byte SHA-256 digest of `message` (FIPS 180-4).
    static func sha256(_ message: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: message))
    }

    /// HMAC-SHA256(key, message), 32 bytes (RFC 2104; keys longer than a block are hashed first).
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// Lower-case hex of bytes.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Equality whose time depends only on the lengths (for comparing signatures).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

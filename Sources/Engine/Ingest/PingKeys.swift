import Crypto
import Foundation

/// Per-signer UDP keys, derived from the server secret: key = HMAC-SHA256(secret, "driver:<id>") or
/// HMAC-SHA256(secret, "gateway:<id>"), `<id>` in decimal (DESIGN.md). The secret never leaves this type.
public struct PingKeys: Sendable {
    // Raw bytes, not SymmetricKey: swift-crypto's key type is not Sendable on Linux.
    private let secret: [UInt8]
    private let secretHMAC: PreparedHMAC

    /// Keys under a secret (raw bytes; the CLI reads it as hex from `--udp-secret` / `HEXFLEET_UDP_SECRET`).
    public init(secret: [UInt8]) {
        self.secret = secret
        secretHMAC = PreparedHMAC(key: secret)
    }

    /// Parses a hex secret; nil when it is not an even-length hex string of at least 16 bytes.
    public static func parseHexSecret(_ hex: String) -> [UInt8]? {
        guard let bytes = Hex.decode(hex), bytes.count >= 16 else { return nil }
        return bytes
    }

    /// A driver's signing key.
    public func driverKey(_ id: UInt64) -> SymmetricKey { derive("driver:\(id)") }
    /// A gateway's signing key.
    public func gatewayKey(_ id: UInt64) -> SymmetricKey { derive("gateway:\(id)") }

    /// A driver's key as lowercase hex, as the auth API hands it to the driver app.
    public func driverKeyHex(_ id: UInt64) -> String {
        driverKey(id).withUnsafeBytes { Hex.encode($0) }
    }

    /// A driver's key, prepared for tagging and checking datagrams; allocates nothing.
    public func preparedDriver(_ id: UInt64) -> PreparedHMAC { prepare("driver:", id) }
    /// A gateway's key, prepared for tagging and checking datagrams; allocates nothing.
    public func preparedGateway(_ id: UInt64) -> PreparedHMAC { prepare("gateway:", id) }
    /// A signer's prepared key: a gateway's when `gateway`, else a driver's.
    func prepared(_ id: UInt64, gateway: Bool) -> PreparedHMAC { gateway ? preparedGateway(id) : preparedDriver(id) }

    /// Two signers' keys prepared together (each step of the two derivations in one two-chain call); the same
    /// keys as `preparedDriver` / `preparedGateway`.
    func preparedPair(_ a: UInt64, gateway gatewayA: Bool, _ b: UInt64, gateway gatewayB: Bool) -> (PreparedHMAC, PreparedHMAC) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { labels in
            let la = UnsafeMutableRawPointer(labels.baseAddress!), lb = la + 64
            let na = Self.spellLabel(gatewayA ? "gateway:" : "driver:", a, at: la)
            let nb = Self.spellLabel(gatewayB ? "gateway:" : "driver:", b, at: lb)
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * PreparedHMAC.codeBytes) { keys in
                let ka = keys.baseAddress!, kb = ka + PreparedHMAC.codeBytes
                defer { keys.initialize(repeating: 0) }
                PreparedHMAC.authenticationCodes(secretHMAC, UnsafeRawBufferPointer(start: la, count: na), into: ka,
                                                 secretHMAC, UnsafeRawBufferPointer(start: lb, count: nb), into: kb)
                return PreparedHMAC.pair(keys: UnsafeRawBufferPointer(start: ka, count: PreparedHMAC.codeBytes),
                                         UnsafeRawBufferPointer(start: kb, count: PreparedHMAC.codeBytes))
            }
        }
    }

    /// The same derivation as `derive`, with the label spelled on the stack and the secret's pads precomputed.
    private func prepare(_ prefix: StaticString, _ id: UInt64) -> PreparedHMAC {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { label in
            let n = Self.spellLabel(prefix, id, at: UnsafeMutableRawPointer(label.baseAddress!))
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: PreparedHMAC.codeBytes) { key in
                secretHMAC.authenticationCode(for: UnsafeRawBufferPointer(start: label.baseAddress, count: n), into: key.baseAddress!)
                defer { key.initialize(repeating: 0) }
                return PreparedHMAC(key: UnsafeRawBufferPointer(key))
            }
        }
    }

    /// Writes `prefix` and `id` in decimal at `out` (room for 64 bytes); returns the label's length.
    @inline(__always)
    private static func spellLabel(_ prefix: StaticString, _ id: UInt64, at out: UnsafeMutableRawPointer) -> Int {
        var n = 0
        prefix.withUTF8Buffer { p in
            for b in p { out.storeBytes(of: b, toByteOffset: n, as: UInt8.self); n += 1 }
        }
        // Decimal digits of id, most significant first.
        var digits = 1, rest = id / 10
        while rest > 0 { digits += 1; rest /= 10 }
        var v = id
        for i in stride(from: n + digits - 1, through: n, by: -1) {
            out.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
        }
        return n + digits
    }

    private func derive(_ label: String) -> SymmetricKey {
        SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(label.utf8), using: SymmetricKey(data: secret))))
    }
}

/// The datagram tag: the first 16 bytes of HMAC-SHA256(key, header ‖ records).
public enum PingTag {
    /// Whether the last 16 bytes of `datagram` are the tag of the bytes before them under a prepared key (keyed once
    /// per signer and cached), compared in constant time: no key schedule, no allocation.
    @inline(__always)
    public static func verify(_ datagram: UnsafeRawBufferPointer, prepared: PreparedHMAC) -> Bool {
        let tagStart = datagram.count - PingWire.tagBytes
        return prepared.verify(UnsafeRawBufferPointer(rebasing: datagram[0..<tagStart]),
                               truncatedTag: UnsafeRawBufferPointer(rebasing: datagram[tagStart...]))
    }

    /// `verify` for two datagrams at once (their HMACs in lockstep).
    @inline(__always)
    static func verifyPair(_ a: UnsafeRawBufferPointer, prepared keyA: PreparedHMAC,
                           _ b: UnsafeRawBufferPointer, prepared keyB: PreparedHMAC) -> (Bool, Bool) {
        let ta = a.count - PingWire.tagBytes, tb = b.count - PingWire.tagBytes
        return PreparedHMAC.verifyPair(keyA, UnsafeRawBufferPointer(rebasing: a[0..<ta]), truncatedTag: UnsafeRawBufferPointer(rebasing: a[ta...]),
                                       keyB, UnsafeRawBufferPointer(rebasing: b[0..<tb]), truncatedTag: UnsafeRawBufferPointer(rebasing: b[tb...]))
    }

    /// `sign` with a prepared key: what a sender signing many datagrams per driver uses.
    public static func sign(_ datagram: UnsafeMutableRawBufferPointer, prepared: PreparedHMAC) {
        let tagStart = datagram.count - PingWire.tagBytes
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: PreparedHMAC.codeBytes) { code in
            prepared.authenticationCode(for: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(datagram)[0..<tagStart]),
                                        into: code.baseAddress!)
            for i in 0..<PingWire.tagBytes { datagram[tagStart + i] = code[i] }
        }
    }

    /// Writes the tag over the last 16 bytes of `datagram`.
    public static func sign(_ datagram: UnsafeMutableRawBufferPointer, key: SymmetricKey) {
        let tagStart = datagram.count - PingWire.tagBytes
        let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(datagram)[0..<tagStart])
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        mac.withUnsafeBytes { m in
            for i in 0..<PingWire.tagBytes { datagram[tagStart + i] = m[i] }
        }
    }
}

extension PingWire {
    /// A complete signed datagram for `records` (the simulator's and the tests' encoder).
    public static func encode(_ records: [PingRecord], signerID: UInt64, gateway: Bool, key: SymmetricKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: datagramLength(records: records.count))
        out.withUnsafeMutableBytes { d in
            writeHeader(flags: gateway ? gatewayFlag : 0, recordCount: records.count, signerID: signerID, into: d)
            for (i, r) in records.enumerated() { write(r, at: headerBytes + recordBytes * i, into: d) }
            PingTag.sign(d, key: key)
        }
        return out
    }
}

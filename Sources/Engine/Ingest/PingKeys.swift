import Crypto
import Foundation

/// Per-signer UDP keys, derived from the server secret: key = HMAC-SHA256(secret, "driver:<id>") or
/// HMAC-SHA256(secret, "gateway:<id>"), `<id>` in decimal (DESIGN.md). The secret never leaves this type.
public struct PingKeys: Sendable {
    // Raw bytes, not SymmetricKey: swift-crypto's key type is not Sendable on Linux.
    private let secret: [UInt8]

    /// Keys under a secret (raw bytes; the CLI reads it as hex from `--udp-secret` / `HEXFLEET_UDP_SECRET`).
    public init(secret: [UInt8]) { self.secret = secret }

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

    private func derive(_ label: String) -> SymmetricKey {
        SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(label.utf8), using: SymmetricKey(data: secret))))
    }
}

/// The datagram tag: the first 16 bytes of HMAC-SHA256(key, header ‖ records).
public enum PingTag {
    /// Whether the last 16 bytes of `datagram` are the tag of the bytes before them (constant-time compare).
    @inlinable
    public static func verify(_ datagram: UnsafeRawBufferPointer, key: SymmetricKey) -> Bool {
        let body = UnsafeRawBufferPointer(rebasing: datagram[0..<(datagram.count - PingWire.tagBytes)])
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        var diff: UInt8 = 0
        mac.withUnsafeBytes { m in
            let tagStart = datagram.count - PingWire.tagBytes
            for i in 0..<PingWire.tagBytes { diff |= m[i] ^ datagram[tagStart + i] }
        }
        return diff == 0
    }

    /// `verify` with a prepared HMAC (keyed once per signer and cached): copying it skips the key schedule, about
    /// 40 % of the cost of a one-record datagram's check, and half of swift-crypto's allocations.
    @inlinable
    public static func verify(_ datagram: UnsafeRawBufferPointer, prepared: HMAC<SHA256>) -> Bool {
        let body = UnsafeRawBufferPointer(rebasing: datagram[0..<(datagram.count - PingWire.tagBytes)])
        var h = prepared
        h.update(data: body)
        let mac = h.finalize()
        var diff: UInt8 = 0
        mac.withUnsafeBytes { m in
            let tagStart = datagram.count - PingWire.tagBytes
            for i in 0..<PingWire.tagBytes { diff |= m[i] ^ datagram[tagStart + i] }
        }
        return diff == 0
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
